using System.Buffers;
using System.Collections.Concurrent;
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
/// The two queues are the one part of the core the application touches without the host's lock
/// (<see cref="QueueDatagram(ReadOnlySpan{byte}, ulong, long, long)"/>, <see cref="DatagramReader"/>): a real-time message then never
/// waits for the lock behind a burst of stream work. Everything else here runs on the core's thread.
/// </para>
/// </summary>
internal sealed partial class Connection
{
    private readonly ConcurrentQueue<QueuedDatagram> _datagramsToSend = new();
    private readonly Channel<ReceivedDatagram> _datagramsReceived;
    private readonly Queue<(ulong Id, QuicDatagramDelivery Delivery)> _datagramOutcomes = new();
    private int _datagramsQueued;

    // The send queue's head, taken out of the queue while it waits for room in a packet: peeking
    // at a ConcurrentQueue would freeze its segment and make every later enqueue allocate a new one.
    private QueuedDatagram _heldDatagram;
    private bool _holdingDatagram;
    private long _nextDatagramId;
    private bool _datagramsFirst = true;
    private int _packetsSinceStreamLed;

    /// <summary>With datagrams first, stream data still leads one packet in this many while both wait.</summary>
    private const int StreamTurnEvery = 8;

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
            int packetPayload = MaxUdpPayload - (1 + _connectionIds.PeerCurrent.Length + 4) - Crypto.PacketProtection.TagLength;
            return (int)Math.Min(LargestPayloadInFrame(packetPayload), LargestPayloadInFrame((long)Math.Min(peerLimit, int.MaxValue)));
        }
    }

    /// <summary>Received datagrams waiting to be read.</summary>
    public int DatagramsWaiting => _datagramsReceived.Reader.Count;

    /// <summary>
    /// Received datagrams, oldest first, each in a buffer rented from <see cref="ArrayPool{T}.Shared"/>
    /// that its reader returns; safe from any thread. Completed when the connection ends, after
    /// which what is left can still be read.
    /// </summary>
    public ChannelReader<ReceivedDatagram> DatagramReader => _datagramsReceived.Reader;

    /// <summary>A number to track one datagram by (<see cref="QueueDatagram(ReadOnlySpan{byte}, ulong, long, long)"/>); safe from any thread.</summary>
    public ulong NewDatagramId() => (ulong)Interlocked.Increment(ref _nextDatagramId);

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
        if (State != ConnectionState.Established)
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

        if (Interlocked.Increment(ref _datagramsQueued) > _options.DatagramSendQueueCapacity)
        {
            Interlocked.Decrement(ref _datagramsQueued);
            Datagrams.CountDroppedOnSend();
            return DatagramQueueResult.QueueFull;
        }

        byte[] buffer = ArrayPool<byte>.Shared.Rent(Math.Max(1, payload.Length));
        payload.CopyTo(buffer);
        long age = maxAge > 0 ? maxAge : _options.DatagramMaxAge;
        _datagramsToSend.Enqueue(new QueuedDatagram(buffer, payload.Length, id, age > 0 ? now + age : long.MaxValue));
        return DatagramQueueResult.Queued;
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
    public bool TryReadDatagram(out byte[] payload)
    {
        if (!_datagramsReceived.Reader.TryRead(out ReceivedDatagram received))
        {
            payload = [];
            return false;
        }

        payload = received.TakeArray();
        return true;
    }

    /// <summary>Copies the oldest received datagram into <paramref name="destination"/> and takes it, allocating nothing; false when none waits or it does not fit (then it stays).</summary>
    public bool TryReadDatagram(Span<byte> destination, out int length)
    {
        length = 0;
        if (!_datagramsReceived.Reader.TryPeek(out ReceivedDatagram next) || next.Length > destination.Length
            || !_datagramsReceived.Reader.TryRead(out ReceivedDatagram received))
        {
            return false;
        }

        received.Payload.CopyTo(destination);
        length = received.Length;
        received.Release();
        return true;
    }

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

    private bool HasDatagramsToSend => _holdingDatagram || !_datagramsToSend.IsEmpty;

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
        _datagramsReceived.Writer.TryWrite(ReceivedDatagram.Copy(frame.Data));
        Datagrams.Received++;
        _qlog?.DatagramDataMoved(now, frame.Data.Length, fromApplication: false);
    }

    /// <summary>Writes as many queued datagrams as fit; one that does not fit waits for the next packet, one past its age is dropped.</summary>
    private void WriteDatagrams(ref FrameWriter writer, List<SentFrame> frames)
    {
        while (PeekQueuedDatagram(out QueuedDatagram next))
        {
            if (next.Deadline < _now)
            {
                TakeQueuedDatagram();
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
                    TakeQueuedDatagram();
                    ReleaseDatagram(next, sent: false);
                    continue;
                }

                return;
            }

            TakeQueuedDatagram();
            _qlog?.DatagramDataMoved(_now, next.Length, fromApplication: true);
            writer.Datagram(next.Buffer.AsSpan(0, next.Length));
            frames.Add(new SentFrame(SentFrameKind.Datagram, next.Id, Length: next.Length));
            ReleaseDatagram(next, sent: true);
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

    /// <summary>Datagrams still queued when the connection ends were never sent: they count as lost; readers learn of the end.</summary>
    private void AbandonQueuedDatagrams()
    {
        while (PeekQueuedDatagram(out QueuedDatagram queued))
        {
            TakeQueuedDatagram();
            ReleaseDatagram(queued, sent: false);
        }

        while (_datagramsToSend.TryDequeue(out QueuedDatagram queued))
        {
            Interlocked.Decrement(ref _datagramsQueued);
            ReleaseDatagram(queued, sent: false);
        }

        _datagramsReceived.Writer.TryComplete();
    }

    /// <summary>The datagram at the head of the send queue, held until <see cref="TakeQueuedDatagram"/> (the core is the queue's only consumer).</summary>
    private bool PeekQueuedDatagram(out QueuedDatagram next)
    {
        if (!_holdingDatagram)
        {
            if (!_datagramsToSend.TryDequeue(out _heldDatagram))
            {
                next = default;
                return false;
            }

            _holdingDatagram = true;
        }

        next = _heldDatagram;
        return true;
    }

    /// <summary>Removes the datagram at the head of the send queue, which <see cref="PeekQueuedDatagram"/> returned.</summary>
    private void TakeQueuedDatagram()
    {
        _holdingDatagram = false;
        _heldDatagram = default;
        Interlocked.Decrement(ref _datagramsQueued);
    }

    /// <summary>The receive queue was full and gave up its oldest datagram for a new one.</summary>
    private void OnReceivedDatagramDropped(ReceivedDatagram oldest)
    {
        _qlog?.DatagramDropped(_now, oldest.Length, "receive_queue_full");
        Datagrams.DroppedOnReceive++;
        oldest.Release();
    }

    private Channel<ReceivedDatagram> NewDatagramReceiveQueue(int capacity) => Channel.CreateBounded<ReceivedDatagram>(
        new BoundedChannelOptions(capacity) { FullMode = BoundedChannelFullMode.DropOldest, SingleWriter = true },
        OnReceivedDatagramDropped);

    /// <summary>A datagram waiting to be sent.</summary>
    /// <param name="Buffer">A pooled copy of the payload.</param>
    /// <param name="Length">The payload's length.</param>
    /// <param name="Id">Its tracking number, or 0 when untracked.</param>
    /// <param name="Deadline">When it expires unsent, on the connection's clock; long.MaxValue for never.</param>
    private readonly record struct QueuedDatagram(byte[] Buffer, int Length, ulong Id, long Deadline);
}
