using System.Buffers;
using System.Collections.Concurrent;
using System.Threading.Channels;

namespace Mallard.Quic.Connections;

/// <summary>
/// One connection's DATAGRAM state (RFC 9221): the bounded send queue, the bounded receive queue,
/// the outcomes of tracked datagrams, and the counters. The application adds to the send queue and
/// reads the receive queue from any thread without the host's lock; the core takes from the send
/// queue, fills the receive queue and reports outcomes on its own thread. Payloads wait in pooled
/// buffers, so a datagram's way through allocates nothing.
/// </summary>
internal sealed class DatagramQueues
{
    private readonly ConcurrentQueue<QueuedDatagram> _toSend = new();
    private readonly Channel<ReceivedDatagram> _received;
    private readonly Queue<(ulong Id, QuicDatagramDelivery Delivery)> _outcomes = new();
    private readonly int _sendCapacity;
    private int _queued;
    private long _nextId;

    // The send queue's head, taken out of the queue while it waits for room in a packet: peeking
    // at a ConcurrentQueue would freeze its segment and make every later enqueue allocate a new one.
    private QueuedDatagram _held;
    private bool _holding;

    /// <param name="sendCapacity">Datagrams that may wait to be sent; more are refused.</param>
    /// <param name="receiveCapacity">Received datagrams that may wait to be read; a new one then replaces the oldest.</param>
    /// <param name="onReceivedDropped">Told of a received datagram given up for a newer one (before its buffer is released).</param>
    public DatagramQueues(int sendCapacity, int receiveCapacity, Action<ReceivedDatagram> onReceivedDropped)
    {
        _sendCapacity = sendCapacity;
        _received = Channel.CreateBounded<ReceivedDatagram>(
            new BoundedChannelOptions(receiveCapacity) { FullMode = BoundedChannelFullMode.DropOldest, SingleWriter = true },
            oldest =>
            {
                Counters.DroppedOnReceive++;
                onReceivedDropped(oldest);
                oldest.Release();
            });
    }

    /// <summary>Sent, received, dropped by a full queue, acknowledged, lost, expired.</summary>
    public DatagramCounters Counters { get; } = new();

    /// <summary>Received datagrams, oldest first; completed when the connection ends, after which what is left can still be read.</summary>
    public ChannelReader<ReceivedDatagram> Reader => _received.Reader;

    /// <summary>Received datagrams waiting to be read.</summary>
    public int Waiting => _received.Reader.Count;

    /// <summary>Whether a datagram waits to be sent.</summary>
    public bool HasToSend => _holding || !_toSend.IsEmpty;

    /// <summary>A number to track one datagram by; safe from any thread.</summary>
    public ulong NewId() => (ulong)Interlocked.Increment(ref _nextId);

    /// <summary>Queues a pooled copy of <paramref name="payload"/>; false (and counted) when the queue is full. Safe from any thread.</summary>
    public bool TryEnqueue(ReadOnlySpan<byte> payload, ulong id, long deadline)
    {
        if (Interlocked.Increment(ref _queued) > _sendCapacity)
        {
            Interlocked.Decrement(ref _queued);
            Counters.CountDroppedOnSend();
            return false;
        }

        byte[] buffer = ArrayPool<byte>.Shared.Rent(Math.Max(1, payload.Length));
        payload.CopyTo(buffer);
        _toSend.Enqueue(new QueuedDatagram(buffer, payload.Length, id, deadline));
        return true;
    }

    /// <summary>The datagram at the head of the send queue, held until <see cref="Take"/> (the core is the queue's only consumer).</summary>
    public bool TryPeek(out QueuedDatagram next)
    {
        if (!_holding)
        {
            if (!_toSend.TryDequeue(out _held))
            {
                next = default;
                return false;
            }

            _holding = true;
        }

        next = _held;
        return true;
    }

    /// <summary>
    /// Removes the head that <see cref="TryPeek"/> returned and releases its buffer: it went into a
    /// packet (<paramref name="sent"/>), or it is dropped unsent — expired, or it can never be
    /// sent — and counted, and reported when tracked.
    /// </summary>
    public void Take(QueuedDatagram datagram, bool sent, bool expired = false)
    {
        _holding = false;
        _held = default;
        Interlocked.Decrement(ref _queued);
        Release(datagram, sent, expired);
    }

    /// <summary>The packet that carried a tracked or untracked datagram was acknowledged or declared lost (never retransmitted, RFC 9221 section 5.2).</summary>
    public void OnOutcome(ulong id, bool acknowledged)
    {
        if (acknowledged)
        {
            Counters.Acknowledged++;
        }
        else
        {
            Counters.Lost++;
        }

        if (id != 0)
        {
            _outcomes.Enqueue((id, acknowledged ? QuicDatagramDelivery.Acknowledged : QuicDatagramDelivery.Lost));
        }
    }

    /// <summary>Takes the next outcome of a tracked datagram.</summary>
    public bool TryTakeOutcome(out ulong id, out QuicDatagramDelivery delivery)
    {
        bool taken = _outcomes.TryDequeue(out (ulong Id, QuicDatagramDelivery Delivery) outcome);
        (id, delivery) = outcome;
        return taken;
    }

    /// <summary>Hands a received payload to the application; a full queue gives up its oldest (real-time data wants the newest).</summary>
    public void Deliver(ReadOnlySpan<byte> payload)
    {
        _received.Writer.TryWrite(ReceivedDatagram.Copy(payload));
        Counters.Received++;
    }

    /// <summary>Takes the oldest received datagram, as an array of its own.</summary>
    public bool TryRead(out byte[] payload)
    {
        if (!_received.Reader.TryRead(out ReceivedDatagram received))
        {
            payload = [];
            return false;
        }

        payload = received.TakeArray();
        return true;
    }

    /// <summary>Copies the oldest received datagram into <paramref name="destination"/> and takes it; false when none waits or it does not fit (then it stays).</summary>
    public bool TryRead(Span<byte> destination, out int length)
    {
        length = 0;
        if (!_received.Reader.TryPeek(out ReceivedDatagram next) || next.Length > destination.Length
            || !_received.Reader.TryRead(out ReceivedDatagram received))
        {
            return false;
        }

        received.Payload.CopyTo(destination);
        length = received.Length;
        received.Release();
        return true;
    }

    /// <summary>The connection ended: datagrams still queued were never sent and count as lost; readers learn of the end.</summary>
    public void Abandon()
    {
        while (TryPeek(out QueuedDatagram queued))
        {
            Take(queued, sent: false);
        }

        _received.Writer.TryComplete();
    }

    private void Release(QueuedDatagram datagram, bool sent, bool expired)
    {
        ArrayPool<byte>.Shared.Return(datagram.Buffer);
        if (sent)
        {
            Counters.Sent++;
            return;
        }

        if (expired)
        {
            Counters.Expired++;
        }
        else
        {
            Counters.Lost++;
        }

        if (datagram.Id != 0)
        {
            _outcomes.Enqueue((datagram.Id, expired ? QuicDatagramDelivery.Expired : QuicDatagramDelivery.Lost));
        }
    }
}
