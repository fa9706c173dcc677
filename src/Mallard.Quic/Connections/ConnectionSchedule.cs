namespace Mallard.Quic.Connections;

/// <summary>
/// Which connections of an endpoint have work, and when each one's timer is due, so that the
/// endpoint touches only those: a send queue of connections that something happened to (a
/// datagram, a timer, a call from the application), served round-robin a datagram at a time;
/// a timer queue ordered by deadline, whose stale entries are skipped when they surface; and the
/// connections touched since the host last looked, whose waiters it wakes. No operation scans
/// all connections, so an idle or half-open connection costs nothing per datagram.
/// </summary>
internal sealed class ConnectionSchedule
{
    private readonly Queue<Connection> _ready = new();
    private readonly PriorityQueue<Connection, long> _timers = new();
    private readonly List<(Connection, long)> _liveTimers = []; // reused by each rebuild of _timers
    private readonly List<Connection> _touched = [];
    private int _connections;

    /// <summary>Connections with work queued.</summary>
    public int Ready => _ready.Count;

    /// <summary>Entries in the timer queue, stale ones included (at most twice the connections, plus 64).</summary>
    public int TimerEntries => _timers.Count;

    /// <summary>Notes a connection that joined the endpoint.</summary>
    public void Add(Connection connection)
    {
        _connections++;
        MarkReady(connection);
    }

    /// <summary>Notes a connection that left the endpoint (closed): its queue entries are skipped from now on.</summary>
    public void Remove(Connection connection)
    {
        _connections--;
        connection.ScheduledTimeout = null;
    }

    /// <summary>Something happened to <paramref name="connection"/>: it may have datagrams to send, a new deadline and waiters to wake.</summary>
    public void MarkReady(Connection connection)
    {
        if (!connection.InSendQueue)
        {
            connection.InSendQueue = true;
            _ready.Enqueue(connection);
        }

        if (!connection.Touched)
        {
            connection.Touched = true;
            _touched.Add(connection);
        }
    }

    /// <summary>The next datagram of the connections with work, round-robin; 0 when none has anything to send.</summary>
    public int Send(long now, Span<byte> buffer, out Connection? sender)
    {
        while (_ready.TryDequeue(out Connection? connection))
        {
            int length = connection.State == ConnectionState.Closed ? 0 : connection.Send(now, buffer);
            if (length > 0)
            {
                _ready.Enqueue(connection); // more may follow, after the others had a turn
                sender = connection;
                return length;
            }

            connection.InSendQueue = false;
            if (connection.State == ConnectionState.Closed && !connection.Touched)
            {
                connection.Touched = true; // so that the next drain forgets it
                _touched.Add(connection);
            }

            Reschedule(connection);
        }

        sender = null;
        return 0;
    }

    /// <summary>The earliest deadline of any connection, or null.</summary>
    public long? NextTimeout
    {
        get
        {
            while (_timers.TryPeek(out Connection? connection, out long deadline))
            {
                if (connection.ScheduledTimeout == deadline)
                {
                    return deadline;
                }

                _timers.Dequeue(); // stale: the connection's deadline moved, or it left
            }

            return null;
        }
    }

    /// <summary>Fires the timers due at <paramref name="now"/>.</summary>
    public void OnTimeout(long now)
    {
        while (NextTimeout is long deadline && deadline <= now)
        {
            Connection connection = _timers.Dequeue();
            connection.ScheduledTimeout = null;
            connection.OnTimeout(now);
            MarkReady(connection);
        }
    }

    /// <summary>
    /// Moves the connections touched since the last call into a rented array (return it to
    /// <see cref="System.Buffers.ArrayPool{T}.Shared"/>) and unmarks them. A copy, not the list
    /// itself: visiting may run an application callback that changes a connection and drains again.
    /// </summary>
    public int TakeTouched(out Connection[] taken)
    {
        taken = System.Buffers.ArrayPool<Connection>.Shared.Rent(Math.Max(1, _touched.Count));
        _touched.CopyTo(taken);
        int count = _touched.Count;
        _touched.Clear();
        for (int i = 0; i < count; i++)
        {
            taken[i].Touched = false;
        }

        return count;
    }

    /// <summary>Queues the connection's current deadline when it changed; rebuilds the queue when stale entries outnumber live ones.</summary>
    private void Reschedule(Connection connection)
    {
        long? deadline = connection.NextTimeout;
        if (deadline == connection.ScheduledTimeout)
        {
            return;
        }

        connection.ScheduledTimeout = deadline;
        if (deadline is long due)
        {
            _timers.Enqueue(connection, due);
        }

        if (_timers.Count > (2 * _connections) + 64)
        {
            List<(Connection, long)> live = _liveTimers;
            live.Clear();
            while (_timers.TryDequeue(out Connection? queued, out long at))
            {
                if (queued.ScheduledTimeout == at)
                {
                    live.Add((queued, at));
                }
            }

            _timers.EnqueueRange(live);
            live.Clear();
        }
    }
}
