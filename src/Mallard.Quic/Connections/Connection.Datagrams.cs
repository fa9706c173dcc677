using System.Buffers;
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
/// </summary>
internal sealed partial class Connection
{
    private readonly Queue<QueuedDatagram> _datagramsToSend = new();
    private readonly Queue<byte[]> _datagramsReceived = new();
    private readonly Queue<(ulong Id, QuicDatagramDelivery Delivery)> _datagramOutcomes = new();
    private ulong _nextDatagramId = 1;
    private bool _datagramsFirst = true;

    /// <summary>DATAGRAM counters: sent, received, dropped by a full queue, acknowledged, lost.</summary>
    public DatagramCounters Datagrams { get; } = new();

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

            // A short header with a 4-octet packet number, the AEAD tag, and the frame's type and length.
            int packetPayload = (HandshakeConfirmed ? MaxUdpPayload : MinimumInitialDatagramSize) - (1 + _peerConnectionId.Length + 4) - Crypto.PacketProtection.TagLength;
            return (int)Math.Min(LargestPayloadInFrame(packetPayload), LargestPayloadInFrame((long)Math.Min(peerLimit, int.MaxValue)));
        }
    }

    /// <summary>Received datagrams waiting to be read.</summary>
    public int DatagramsWaiting => _datagramsReceived.Count;

    /// <summary>
    /// Queues <paramref name="payload"/> (copied) as one DATAGRAM frame. With <paramref name="track"/>,
    /// its acknowledgement or loss is reported through <see cref="TryTakeDatagramOutcome"/> under <paramref name="id"/>.
    /// Still queued after <paramref name="maxAge"/> microseconds (0: the connection's default), it is dropped.
    /// </summary>
    public DatagramQueueResult QueueDatagram(ReadOnlySpan<byte> payload, bool track, out ulong id, long maxAge = 0)
    {
        id = 0;
        if (State != ConnectionState.Established)
        {
            return DatagramQueueResult.ConnectionClosed;
        }

        if (MaxDatagramPayload == 0)
        {
            return DatagramQueueResult.NotNegotiated;
        }

        if (payload.Length > MaxDatagramPayload)
        {
            return DatagramQueueResult.TooLarge;
        }

        if (_datagramsToSend.Count >= _options.DatagramSendQueueCapacity)
        {
            Datagrams.DroppedOnSend++;
            return DatagramQueueResult.QueueFull;
        }

        byte[] buffer = ArrayPool<byte>.Shared.Rent(Math.Max(1, payload.Length));
        payload.CopyTo(buffer);
        if (track)
        {
            id = _nextDatagramId++;
        }

        long age = maxAge > 0 ? maxAge : _options.DatagramMaxAge;
        _datagramsToSend.Enqueue(new QueuedDatagram(buffer, payload.Length, id, age > 0 ? _now + age : long.MaxValue));
        _qlog?.DatagramDataMoved(_now, payload.Length, fromApplication: true);
        return DatagramQueueResult.Queued;
    }

    /// <summary>Takes the oldest received datagram.</summary>
    public bool TryReadDatagram(out byte[] payload) => _datagramsReceived.TryDequeue(out payload!);

    /// <summary>Takes the next outcome of a tracked datagram: acknowledged, or declared lost (RFC 9221 section 5.2).</summary>
    public bool TryTakeDatagramOutcome(out ulong id, out QuicDatagramDelivery delivery)
    {
        bool taken = _datagramOutcomes.TryDequeue(out (ulong Id, QuicDatagramDelivery Delivery) outcome);
        (id, delivery) = outcome;
        return taken;
    }

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

    private bool HasDatagramsToSend => _datagramsToSend.Count > 0;

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

        // A real-time flow wants the newest data: a full queue gives up its oldest datagram.
        if (_datagramsReceived.Count >= _options.DatagramReceiveQueueCapacity)
        {
            byte[] oldest = _datagramsReceived.Dequeue();
            _qlog?.DatagramDropped(now, oldest.Length, "receive_queue_full");
            Datagrams.DroppedOnReceive++;
        }

        _datagramsReceived.Enqueue(frame.Data.ToArray());
        Datagrams.Received++;
        _qlog?.DatagramDataMoved(now, frame.Data.Length, fromApplication: false);
    }

    /// <summary>Writes as many queued datagrams as fit; one that does not fit waits for the next packet, one past its age is dropped.</summary>
    private void WriteDatagrams(ref FrameWriter writer, List<SentFrame> frames)
    {
        while (_datagramsToSend.TryPeek(out QueuedDatagram next))
        {
            if (next.Deadline < _now)
            {
                _datagramsToSend.Dequeue();
                _qlog?.DatagramDropped(_now, next.Length, "expired");
                ReleaseDatagram(next, sent: false, expired: true);
                continue;
            }

            int frameSize = 1 + VariableLengthInteger.EncodedLength((ulong)next.Length) + next.Length;
            if (frameSize > writer.Remaining)
            {
                if (next.Length > MaxDatagramPayload)
                {
                    // The path or the peer's limit shrank below it since it was queued: it can never go.
                    _datagramsToSend.Dequeue();
                    ReleaseDatagram(next, sent: false);
                    continue;
                }

                return;
            }

            _datagramsToSend.Dequeue();
            writer.Datagram(next.Buffer.AsSpan(0, next.Length));
            frames.Add(new SentFrame(SentFrameKind.Datagram, next.Id, Length: next.Length));
            ReleaseDatagram(next, sent: true);
        }
    }

    /// <summary>Datagrams first, or datagrams and stream data alternating at the front of the packet while both wait.</summary>
    private void WriteStreamDataAndDatagrams(ref FrameWriter writer, List<SentFrame> frames)
    {
        if (_options.DatagramPriority == QuicDatagramPriority.First)
        {
            WriteDatagrams(ref writer, frames);
            WriteStreamData(ref writer, frames);
            return;
        }

        bool both = HasDatagramsToSend && HasStreamFramesToSend();
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

        if (both)
        {
            _datagramsFirst = !_datagramsFirst;
        }
    }

    private void ReleaseDatagram(QueuedDatagram datagram, bool sent, bool expired = false)
    {
        ArrayPool<byte>.Shared.Return(datagram.Buffer);
        if (sent)
        {
            Datagrams.Sent++;
            return;
        }

        if (expired)
        {
            Datagrams.Expired++;
        }
        else
        {
            Datagrams.Lost++;
        }

        if (datagram.Id != 0)
        {
            _datagramOutcomes.Enqueue((datagram.Id, expired ? QuicDatagramDelivery.Expired : QuicDatagramDelivery.Lost));
        }
    }

    private void OnDatagramOutcome(SentFrame frame, bool acknowledged)
    {
        if (acknowledged)
        {
            Datagrams.Acknowledged++;
        }
        else
        {
            Datagrams.Lost++;
        }

        if (frame.Id != 0)
        {
            _datagramOutcomes.Enqueue((frame.Id, acknowledged ? QuicDatagramDelivery.Acknowledged : QuicDatagramDelivery.Lost));
        }
    }

    /// <summary>Datagrams still queued when the connection ends were never sent: they count as lost.</summary>
    private void AbandonQueuedDatagrams()
    {
        while (_datagramsToSend.TryDequeue(out QueuedDatagram queued))
        {
            ReleaseDatagram(queued, sent: false);
        }
    }

    /// <summary>A datagram waiting to be sent.</summary>
    /// <param name="Buffer">A pooled copy of the payload.</param>
    /// <param name="Length">The payload's length.</param>
    /// <param name="Id">Its tracking number, or 0 when untracked.</param>
    /// <param name="Deadline">When it expires unsent, on the connection's clock; long.MaxValue for never.</param>
    private readonly record struct QueuedDatagram(byte[] Buffer, int Length, ulong Id, long Deadline);
}
