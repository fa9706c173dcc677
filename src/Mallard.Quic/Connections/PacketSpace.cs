using Mallard.Quic.Crypto;
using Mallard.Quic.Recovery;
using Mallard.Quic.Streams;
using Mallard.Quic.Tls;
using Mallard.Quic.Transport;

namespace Mallard.Quic.Connections;

/// <summary>
/// One packet number space (RFC 9000 section 12.3): its keys, packet numbers, received packets
/// to acknowledge, loss detection, and the CRYPTO stream carried at its encryption level.
/// </summary>
internal sealed class PacketSpace(SpaceId id, SentPacketPool sentPackets) : IDisposable
{
    public SpaceId Id { get; } = id;

    /// <summary>The TLS encryption level whose CRYPTO data travels in this space.</summary>
    public EncryptionLevel Level { get; } = id switch
    {
        SpaceId.Initial => EncryptionLevel.Initial,
        SpaceId.Handshake => EncryptionLevel.Handshake,
        _ => EncryptionLevel.OneRtt,
    };

    public PacketProtection? SendKeys { get; set; }

    public PacketProtection? ReceiveKeys { get; set; }

    public bool Discarded { get; private set; }

    public ulong NextPacketNumber { get; set; }

    public ReceivedPacketRanges Received { get; } = new();

    public LossDetector Loss { get; } = new(sentPackets);

    /// <summary>CRYPTO data to send (no flow control limit applies).</summary>
    public SendBuffer CryptoSend { get; } = new(ulong.MaxValue);

    /// <summary>CRYPTO data received; more than 64 KiB ahead is CRYPTO_BUFFER_EXCEEDED (section 7.5).</summary>
    public ReassemblyBuffer CryptoReceive { get; } = new(64 * 1024, TransportErrorCode.CryptoBufferExceeded);

    /// <summary>Whether an ACK frame should go out with the next packet.</summary>
    public bool AckPending { get; set; }

    /// <summary>When a delayed ACK must go out at the latest (1-RTT only).</summary>
    public long? AckDeadline { get; set; }

    /// <summary>Ack-eliciting packets received since the last ACK was sent.</summary>
    public int UnacknowledgedAckEliciting { get; set; }

    /// <summary>When the largest packet number was received, for the ACK Delay field.</summary>
    public long LargestReceivedTime { get; set; }

    /// <summary>Probe packets the PTO asked for in this space.</summary>
    public int ProbesWanted { get; set; }

    public bool CanSend => SendKeys is not null && !Discarded;

    /// <summary>Drops the keys and forgets in-flight packets (RFC 9001 section 4.9, RFC 9002 section 6.4).</summary>
    public void Discard(Congestion.CongestionController congestion)
    {
        if (Discarded)
        {
            return;
        }

        Discarded = true;
        Loss.Discard(congestion);
        AckPending = false;
        AckDeadline = null;
        ProbesWanted = 0;
        SendKeys?.Dispose();
        ReceiveKeys?.Dispose();
        SendKeys = null;
        ReceiveKeys = null;
    }

    public void Dispose()
    {
        SendKeys?.Dispose();
        ReceiveKeys?.Dispose();
    }
}
