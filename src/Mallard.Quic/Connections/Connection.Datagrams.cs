using System.Buffers;
using System.Threading.Channels;
using Mallard.Quic.Frames;
using Mallard.Quic.Packets;
using Mallard.Quic.Recovery;
using Mallard.Quic.Transport;

namespace Mallard.Quic.Connections;

/// <summary>
/// Unreliable DATAGRAM frames (RFC 9221): bounded send and receive queues, congestion
/// controlled, never retransmitted, ack-eliciting, with an outcome per datagram when asked.
/// Datagrams go before stream data by default (a real-time message must not wait behind a bulk
/// transfer) or take turns with it; one that waited past its maximum age is dropped, not sent late.
/// <para>
/// The two queues (<see cref="DatagramQueues"/>) are the one part of the core the application
/// touches without the host's lock (<see cref="QueueDatagram(ReadOnlySpan{byte}, ulong, long, long)"/>,
/// <see cref="DatagramReader"/>): a real-time message then never waits for the lock behind a burst
/// of stream work. Everything else here runs on the core's thread.
/// </para>
/// </summary>
internal sealed partial class Connection
{
    private readonly DatagramQueues _datagrams;
    private bool _datagramsFirst = true;
    private int _packetsSinceStreamLed;

    /// <summary>With datagrams first, stream data still leads one packet in this many while both wait.</summary>
    private const int StreamTurnEvery = 8;

    /// <summary>DATAGRAM counters: sent, received, dropped by a full queue, acknowledged, lost.</summary>
    public DatagramCounters Datagrams => _datagrams.Counters;

    /// <summary>
    /// The largest DATAGRAM payload that can be sent now: the peer's max_datagram_frame_size and
    /// one packet on the current path both bound it; 0 when the peer does not accept datagrams.
    /// </summary>
    public int MaxDatagramPayload
    {
        get
        {
            if (PeerParameters?.MaxDatagramFrameSize is not ulong peerLimit || peerLimit == 0)
            {
                return 0;
            }

            // A short header with a 4-octet packet number — or a 0-RTT long header, with both connection IDs
            // and a length — the AEAD tag, and the frame's type and length.
            int header = _zeroRttSending
                ? 1 + 4 + 1 + _connectionIds.PeerCurrent.Length + 1 + _connectionIds.FirstLocalId.Length + 2 + 4
                : 1 + _connectionIds.PeerCurrent.Length + 4;
            int packetPayload = MaxUdpPayload - header - Crypto.PacketProtection.TagLength;
            return (int)Math.Min(LargestPayloadInFrame(packetPayload), LargestPayloadInFrame((long)Math.Min(peerLimit, int.MaxValue)));
        }
    }

    /// <summary>Received datagrams waiting to be read.</summary>
    public int DatagramsWaiting => _datagrams.Waiting;

    /// <summary>
    /// Received datagrams, oldest first, each in a buffer rented from <see cref="ArrayPool{T}.Shared"/>
    /// that its reader returns; safe from any thread. Completed when the connection ends, after
    /// which what is left can still be read.
    /// </summary>
    public ChannelReader<ReceivedDatagram> DatagramReader => _datagrams.Reader;

    /// <summary>A number to track one datagram by (<see cref="QueueDatagram(ReadOnlySpan{byte}, ulong, long, long)"/>); safe from any thread.</summary>
    public ulong NewDatagramId() => _datagrams.NewId();

    /// <summary>
    /// Queues <paramref name="payload"/> (copied) as one DATAGRAM frame; safe from any thread. With
    /// an <paramref name="id"/> (from <see cref="NewDatagramId"/>; 0 for none), its acknowledgement or
    /// loss is reported through <see cref="TryTakeDatagramOutcome"/>. Still queued after
    /// <paramref name="maxAge"/> microseconds past <paramref name="now"/> (0: the connection's
    /// default), it is dropped. Called without the lock, it reads only word-sized fields: a state
    /// change that races with it refuses or admits one datagram, and the send path checks again.
    /// </summary>
    public DatagramQueueResult QueueDatagram(ReadOnlySpan<byte> payload, ulong id, long now, long maxAge = 0)
    {
        if (!ApplicationDataAllowed)
        {
            return DatagramQueueResult.ConnectionClosed;
        }

        int limit = MaxDatagramPayload;
        if (limit == 0)
        {
            return DatagramQueueResult.NotNegotiated;
        }

        if (payload.Length > limit)
        {
            return DatagramQueueResult.TooLarge;
        }

        long age = maxAge > 0 ? maxAge : _options.DatagramMaxAge;
        return _datagrams.TryEnqueue(payload, id, age > 0 ? now + age : long.MaxValue) ? DatagramQueueResult.Queued : DatagramQueueResult.QueueFull;
    }

    /// <summary>
    /// Queues <paramref name="payload"/> at the core's current time with the connection's maximum
    /// age; with <paramref name="track"/>, under a new <paramref name="id"/> (the sans-IO tests' form).
    /// </summary>
    public DatagramQueueResult QueueDatagram(ReadOnlySpan<byte> payload, bool track, out ulong id)
    {
        id = track ? NewDatagramId() : 0;
        DatagramQueueResult result = QueueDatagram(payload, id, _now);
        id = result == DatagramQueueResult.Queued ? id : 0;
        return result;
    }

    /// <summary>Takes the oldest received datagram, as an array of its own.</summary>
    public bool TryReadDatagram(out byte[] payload) => _datagrams.TryRead(out payload);

    /// <summary>Copies the oldest received datagram into <paramref name="destination"/> and takes it, allocating nothing; false when none waits or it does not fit (then it stays).</summary>
    public bool TryReadDatagram(Span<byte> destination, out int length) => _datagrams.TryRead(destination, out length);

    /// <summary>Takes the next outcome of a tracked datagram: acknowledged, or declared lost (RFC 9221 section 5.2).</summary>
    public bool TryTakeDatagramOutcome(out ulong id, out QuicDatagramDelivery delivery) => _datagrams.TryTakeOutcome(out id, out delivery);

    /// <summary>The largest payload of a DATAGRAM frame with a length (type 0x31) that is at most <paramref name="frameSize"/> octets.</summary>
    private static long LargestPayloadInFrame(long frameSize)
    {
        long best = 0;
        foreach (int lengthOctets in (ReadOnlySpan<int>)[1, 2, 4])
        {
            long payload = frameSize - 1 - lengthOctets;
            if (payload >= 0 && VariableLengthInteger.EncodedLength((ulong)payload) <= lengthOctets)
            {
                best = Math.Max(best, payload);
            }
        }

        return best;
    }

    private bool HasDatagramsToSend => _datagrams.HasToSend;

    /// <summary>A DATAGRAM frame arrived (RFC 9221 section 3 and 4).</summary>
    private void OnDatagramFrame(long now, ref Frame frame)
    {
        int frameSize = 1 + (frame.WireType == 0x31 ? VariableLengthInteger.EncodedLength((ulong)frame.Data.Length) : 0) + frame.Data.Length;
        if (_localParameters.MaxDatagramFrameSize is not ulong limit || limit == 0)
        {
            Fail(now, TransportErrorCode.ProtocolViolation, "DATAGRAM frames were not negotiated", frame.WireType);
            return;
        }

        if ((ulong)frameSize > limit)
        {
            Fail(now, TransportErrorCode.ProtocolViolation, $"a DATAGRAM frame of {frameSize} octets exceeds max_datagram_frame_size {limit}", frame.WireType);
            return;
        }

        // A real-time flow wants the newest data: a full queue gives up its oldest datagram (OnReceivedDatagramDropped).
        _datagrams.Deliver(frame.Data);
        _qlog?.DatagramDataMoved(now, frame.Data.Length, fromApplication: false);
    }

    /// <summary>Writes as many queued datagrams as fit; one that does not fit waits for the next packet, one past its age is dropped.</summary>
    private void WriteDatagrams(ref FrameWriter writer, List<SentFrame> frames)
    {
        while (_datagrams.TryPeek(out QueuedDatagram next))
        {
            if (next.Deadline < _now)
            {
                _qlog?.DatagramDropped(_now, next.Length, "expired");
                _datagrams.Take(next, sent: false, expired: true);
                continue;
            }

            int frameSize = 1 + VariableLengthInteger.EncodedLength((ulong)next.Length) + next.Length;
            if (frameSize > writer.Remaining)
            {
                if (next.Length > MaxDatagramPayload)
                {
                    // The path or the peer's limit shrank below it since it was queued: it can never go.
                    _datagrams.Take(next, sent: false);
                    continue;
                }

                return;
            }

            _qlog?.DatagramDataMoved(_now, next.Length, fromApplication: true);
            writer.Datagram(next.Payload);
            frames.Add(new SentFrame(SentFrameKind.Datagram, next.Id, Length: next.Length));
            _datagrams.Take(next, sent: true);
        }
    }

    /// <summary>
    /// Which leads the packet while both wait: datagrams, except that stream data leads one packet
    /// in <see cref="StreamTurnEvery"/> so that a flood of datagrams cannot starve a stream
    /// (<see cref="QuicDatagramPriority.First"/>); or each in turn (<see cref="QuicDatagramPriority.Fair"/>).
    /// </summary>
    private void WriteStreamDataAndDatagrams(ref FrameWriter writer, List<SentFrame> frames)
    {
        bool both = HasDatagramsToSend && HasStreamFramesToSend();
        if (_options.DatagramPriority == QuicDatagramPriority.First)
        {
            _datagramsFirst = !both || ++_packetsSinceStreamLed < StreamTurnEvery;
            if (!_datagramsFirst)
            {
                _packetsSinceStreamLed = 0;
            }
        }

        if (_datagramsFirst)
        {
            WriteDatagrams(ref writer, frames);
            WriteStreamData(ref writer, frames);
        }
        else
        {
            WriteStreamData(ref writer, frames);
            WriteDatagrams(ref writer, frames);
        }

        if (both && _options.DatagramPriority == QuicDatagramPriority.Fair)
        {
            _datagramsFirst = !_datagramsFirst;
        }
    }

    private void OnDatagramOutcome(SentFrame frame, bool acknowledged) => _datagrams.OnOutcome(frame.Id, acknowledged);

    /// <summary>Datagrams still queued when the connection ends were never sent: they count as lost; readers learn of the end.</summary>
    private void AbandonQueuedDatagrams() => _datagrams.Abandon();

    /// <summary>The receive queue was full and gave up its oldest datagram for a new one.</summary>
    private void OnReceivedDatagramDropped(ReceivedDatagram oldest) => _qlog?.DatagramDropped(_now, oldest.Length, "receive_queue_full");
}
