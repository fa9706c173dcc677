using System.Net;
using System.Net.Sockets;
using Mallard.Quic.Connections;
using Mallard.Quic.Hosting.Linux;

namespace Mallard.Quic.Hosting;

/// <summary>
/// The I/O host of one UDP socket: feeds received datagrams and timer expiry to the sans-IO
/// <see cref="Endpoint"/>, sends what it produces, and wakes the async API. Every call into the
/// core happens under <see cref="Gate"/>; after each one <see cref="AfterChangeLocked"/> sends,
/// re-arms the single timer and pulses the connections' signals.
/// <para>
/// Receiving comes first: the loop reads what the socket holds (up to <see cref="ReceiveBatch"/>)
/// before it sends, and sends at most <see cref="SendBudget"/> datagrams before it reads again;
/// the send pump, a thread-pool work item queued at most once at a time, carries on with the
/// rest. A busy sender must queue its work inside the endpoint, where a DATAGRAM can go ahead of
/// stream data, and not let acknowledgements and datagrams wait in the kernel: those waits would
/// read as round-trip time, and the congestion window would grow to fill them. The application's
/// calls change the core (under the lock, or without it for datagrams) and leave the system calls
/// to the pump (<see cref="ScheduleSend"/>), so they hold the lock only briefly.
/// </para>
/// </summary>
internal sealed class EndpointHost : IAsyncDisposable
{
    /// <summary>Datagrams read in one go when the socket has them, before sending.</summary>
    private const int ReceiveBatch = BatchReceiver.BatchSize;

    /// <summary>Datagrams sent in one go before received ones are read again.</summary>
    private const int SendBudget = 16;

    /// <summary>After this long without sending, a datagram the application queues goes out on its own thread (microseconds).</summary>
    private const long IdleBeforeInlineSend = 1_000;

    /// <summary>
    /// The wakes queued while the receive loop on this thread holds the lock, run by it once it has
    /// let go (<see cref="Wake"/>); null on every other thread and outside that lock.
    /// </summary>
    [ThreadStatic]
    private static List<IThreadPoolWorkItem>? t_wakesAfterReceive;

    private readonly Endpoint _endpoint;
    private Socket _socket;
    private readonly byte[] _sendBuffer;
    private readonly Timer _timer;
    private readonly CancellationTokenSource _stop = new();
    private readonly Dictionary<Connection, IConnectionWaker> _handles = [];
    private readonly SendPumpWorkItem _sendPump;

    private readonly Action<Connection> _visitTouched;
    private readonly BatchReceiver.DatagramHandler _deliver;
    private readonly BatchReceiver? _batch;
    private readonly BatchSender? _batchSender;
    private readonly System.Collections.Concurrent.ConcurrentQueue<Connection> _touchedByApplication = new();
    private int _sendQueued;

    /// <summary>When the host last sent a datagram (<see cref="HostClock"/>), for <see cref="SendDatagramsSoon"/>.</summary>
    private long _lastSent;
    private Task _receiveLoop = Task.CompletedTask;
    private bool _disposed;

    /// <param name="socket">The bound UDP socket.</param>
    /// <param name="endpoint">The sans-IO endpoint it serves.</param>
    /// <param name="maxDatagramSize">The largest datagram to read in a batch (the max_udp_payload_size this endpoint advertises).</param>
    public EndpointHost(Socket socket, Endpoint endpoint, int maxDatagramSize)
    {
        _visitTouched = VisitTouched;
        _deliver = ReceiveGuarded;
        _batch = BatchReceiver.IsSupported ? BatchReceiver.Rent(maxDatagramSize, coalescing: BatchReceiver.TryEnableCoalescing(socket)) : null;
        _batchSender = BatchReceiver.IsSupported ? BatchSender.Rent(SendBudget, maxDatagramSize) : null;
        _sendBuffer = _batchSender is null ? new byte[65_536] : []; // the batch has its own slots
        _socket = socket;
        _endpoint = endpoint;
        _timer = new Timer(_ => OnTimer());
        _sendPump = new SendPumpWorkItem(this);
        LocalEndPoint = (IPEndPoint)socket.LocalEndPoint!;
    }

    /// <summary>The lock that serialises every call into the sans-IO core.</summary>
    public object Gate { get; } = new();

    public IPEndPoint LocalEndPoint { get; private set; }

    /// <summary>Datagram sends done on the application's thread because the host was idle (<see cref="SendDatagramsSoon"/>).</summary>
    public long InlineDatagramSends { get; private set; }

    /// <summary>Waiters the receive loop woke on its own thread after a receive (<see cref="Wake"/>).</summary>
    public long InlineWakes { get; private set; }

    /// <summary>Unexpected exceptions caught in the receive loop or the timer (each one is a bug).</summary>
    public long InternalErrors { get; private set; }

    public Endpoint Endpoint => _endpoint;

    public static Socket Bind(IPEndPoint local)
    {
        var socket = new Socket(local.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            if (local.AddressFamily == AddressFamily.InterNetworkV6 && local.Address.Equals(IPAddress.IPv6Any))
            {
                socket.DualMode = true;
            }

            socket.ReceiveBufferSize = 4 * 1024 * 1024;
            socket.SendBufferSize = 4 * 1024 * 1024;
            Mallard.Linux.DontFragment.Apply(socket); // probes must be dropped, not fragmented (path MTU discovery)
            socket.Bind(local);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    public void Start()
    {
        Socket socket = _socket;
        _receiveLoop = Task.Run(() => ReceiveLoopAsync(socket));
    }

    /// <summary>
    /// Moves to a new socket (a client's connection migration, RFC 9000 section 9.2): under the
    /// lock the new socket takes over sending and receiving and <paramref name="afterSwap"/> runs;
    /// the old socket is closed, so what still arrives there is lost, as after a NAT rebinding.
    /// </summary>
    public async Task RebindAsync(IPEndPoint local, Action afterSwap)
    {
        Socket fresh = Bind(local);
        if (_batch is { Coalescing: true })
        {
            BatchReceiver.TryEnableCoalescing(fresh); // read the same way as the old one
        }

        Socket old;
        Task oldLoop;
        lock (Gate)
        {
            if (_disposed)
            {
                fresh.Dispose();
                throw new ObjectDisposedException(nameof(EndpointHost));
            }

            old = _socket;
            oldLoop = _receiveLoop;
            _socket = fresh;
            LocalEndPoint = (IPEndPoint)fresh.LocalEndPoint!;
            _receiveLoop = Task.Run(() => ReceiveLoopAsync(fresh));
            afterSwap();
            _endpoint.TouchAll(); // the moved connection has a new path to probe
            AfterChangeLocked();
        }

        old.Dispose();
        try
        {
            await oldLoop.ConfigureAwait(false);
        }
        catch (Exception ended) when (ended is OperationCanceledException or ObjectDisposedException or SocketException)
        {
            // The old socket's loop ends however its last receive was interrupted.
        }
    }

    /// <summary>Tracks the handle of a connection so it is woken and told when it closes.</summary>
    public void Register(Connection connection, IConnectionWaker handle) => _handles[connection] = handle;

    /// <summary>
    /// Sends what the core has queued (at most <see cref="SendBudget"/> datagrams), wakes the
    /// waiters of the connections that something happened to, forgets closed connections and
    /// re-arms the timer; <paramref name="changed"/> names a connection the application changed.
    /// Touches only connections with work, never all of them. Call under <see cref="Gate"/>.
    /// </summary>
    public void AfterChangeLocked(Connection? changed = null)
    {
        if (_disposed)
        {
            return;
        }

        if (changed is not null)
        {
            _endpoint.Touch(changed);
        }

        while (_touchedByApplication.TryDequeue(out Connection? touched))
        {
            _endpoint.Touch(touched);
        }

        long now = HostClock.Now;
        int sent = _batchSender is not null ? SendBatchLocked(now) : SendEachLocked(now);

        _endpoint.ProcessTouched(_visitTouched);
        if (sent == SendBudget)
        {
            QueueSend(); // more may wait: the pump carries on after the socket has been read again
        }

        long? wake = _endpoint.NextTimeout;
        if (_batch?.OverflowReleaseDue is long release)
        {
            wake = Math.Min(wake ?? long.MaxValue, release);
        }

        if (wake is long next)
        {
            long dueMilliseconds = Math.Max(0, (next - now + 999) / 1000);
            _timer.Change(dueMilliseconds, Timeout.Infinite);
        }
        else
        {
            _timer.Change(Timeout.Infinite, Timeout.Infinite);
        }
    }

    /// <summary>
    /// The application changed <paramref name="changed"/> (queued a datagram, wrote or read stream
    /// data): its sending happens on the send pump, not on the application's thread, so that the
    /// application holds the lock only for the change itself (and datagrams not at all) and never
    /// waits behind a burst of system calls made for it. Safe from any thread, with or without the lock.
    /// </summary>
    public void ScheduleSend(Connection changed)
    {
        _touchedByApplication.Enqueue(changed);
        QueueSend();
    }

    /// <summary>
    /// The application queued a DATAGRAM on <paramref name="changed"/>. When the host has sent
    /// nothing for <see cref="IdleBeforeInlineSend"/> and the lock is free, it is sent at once on
    /// the caller's thread: a lone real-time datagram (a telemetry sample, a control message)
    /// then costs no hand-off to the send pump's thread and that thread's wake-up. Under load the
    /// pump sends, batching as before (BENCHMARKS.md, the idle round trip, session 13).
    /// </summary>
    public void SendDatagramsSoon(Connection changed)
    {
        if (HostClock.Now - Volatile.Read(ref _lastSent) > IdleBeforeInlineSend && Volatile.Read(ref _sendQueued) == 0 && Monitor.TryEnter(Gate))
        {
            try
            {
                if (!_disposed)
                {
                    _endpoint.Touch(changed);
                    AfterChangeGuardedLocked();
                    InlineDatagramSends++;
                    return;
                }
            }
            finally
            {
                Monitor.Exit(Gate);
            }
        }

        ScheduleSend(changed);
    }

    /// <summary>
    /// Wakes a waiter that may run the application's code. On the receive loop the wake runs on
    /// that thread once it has released the lock — no hand-off to another thread between a datagram's
    /// arrival and its reader; anywhere else (a timer, the application's own call) it goes to the
    /// thread pool. Call under <see cref="Gate"/>.
    /// </summary>
    public void Wake(IThreadPoolWorkItem wake)
    {
        if (t_wakesAfterReceive is { } afterReceive)
        {
            afterReceive.Add(wake);
        }
        else
        {
            ThreadPool.UnsafeQueueUserWorkItem(wake, preferLocal: false);
        }
    }

    /// <summary>Runs the wakes a receive queued, outside the lock; what they throw is reported, not thrown (the loop must go on).</summary>
    private void RunWakesAfterReceive(List<IThreadPoolWorkItem> wakes)
    {
        for (int i = 0; i < wakes.Count; i++)
        {
            InlineWakes++;
            try
            {
                wakes[i].Execute();
            }
            catch (Exception failure) when (failure is not OutOfMemoryException)
            {
                ReportInternalError(failure);
            }
        }

        wakes.Clear();
    }

    /// <summary>Queues one run of the send pump on the thread pool unless one is queued already.</summary>
    private void QueueSend()
    {
        if (Interlocked.Exchange(ref _sendQueued, 1) == 0)
        {
            ThreadPool.UnsafeQueueUserWorkItem(_sendPump, preferLocal: false); // one work item, reused: nothing allocated per run
        }
    }

    /// <summary>Sends up to a budget; queues itself again while more waits.</summary>
    private void RunSendPump()
    {
        Volatile.Write(ref _sendQueued, 0);
        lock (Gate)
        {
            AfterChangeGuardedLocked();
        }
    }

    /// <summary><see cref="AfterChangeLocked"/> from the host's own threads: a bug in the core is reported, not thrown.</summary>
    private void AfterChangeGuardedLocked()
    {
        try
        {
            AfterChangeLocked();
        }
        catch (Exception failure) when (failure is not OutOfMemoryException)
        {
            ReportInternalError(failure);
        }
    }

    /// <summary>Wakes the waiters of the connections touched so far (<see cref="VisitTouched"/>); a bug in the core is reported, not thrown.</summary>
    private void VisitTouchedGuardedLocked()
    {
        try
        {
            _endpoint.ProcessTouched(_visitTouched);
        }
        catch (Exception failure) when (failure is not OutOfMemoryException)
        {
            ReportInternalError(failure);
        }
    }

    /// <summary>Up to <see cref="SendBudget"/> datagrams, one sendto each (the portable path).</summary>
    private int SendEachLocked(long now)
    {
        int sent = 0;
        int length;
        while (sent < SendBudget && (length = _endpoint.Send(now, _sendBuffer, out SocketAddress? destination)) > 0)
        {
            sent++;
            Volatile.Write(ref _lastSent, now);
            try
            {
                _socket.SendTo(_sendBuffer.AsSpan(0, length), SocketFlags.None, destination!);
            }
            catch (SocketException)
            {
                // A full send buffer or an unreachable peer is a lost datagram; recovery handles it.
            }
        }

        return sent;
    }

    /// <summary>Up to <see cref="SendBudget"/> datagrams written into the batch's slots, then sent in as few system calls as the kernel allows.</summary>
    private int SendBatchLocked(long now)
    {
        BatchSender batch = _batchSender!;
        int count = 0;
        int length;
        while (count < SendBudget && (length = _endpoint.Send(now, batch.Slot(count), out SocketAddress? destination)) > 0)
        {
            batch.Set(count++, length, destination!, _endpoint.LastSendStandsAlone);
        }

        if (count > 0)
        {
            batch.Flush(_socket, count);
            Volatile.Write(ref _lastSent, now);
        }

        return count;
    }

    /// <summary>Wakes the waiters of a touched connection, and lets go of its handle once it has closed.</summary>
    private void VisitTouched(Connection connection)
    {
        if (_handles.TryGetValue(connection, out IConnectionWaker? handle))
        {
            handle.OnHostCycleLocked();
            if (connection.State == ConnectionState.Closed)
            {
                _handles.Remove(connection);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        lock (Gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
        }

        await _stop.CancelAsync().ConfigureAwait(false);
        await _timer.DisposeAsync().ConfigureAwait(false);
        _socket.Dispose();
        try
        {
            await _receiveLoop.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        lock (Gate)
        {
            foreach (IConnectionWaker handle in _handles.Values)
            {
                handle.OnHostCycleLocked();
            }

            _endpoint.Dispose();
            _batch?.Return(); // the receive loop has ended; nothing reads into it any more
            _batchSender?.Return();
        }

        _stop.Dispose();
    }

    private void OnTimer()
    {
        lock (Gate)
        {
            if (_disposed)
            {
                return;
            }

            try
            {
                long now = HostClock.Now;
                _endpoint.OnTimeout(now);
                _batch?.ReleaseIdleOverflow(now);
            }
            catch (Exception failure) when (failure is not OutOfMemoryException)
            {
                ReportInternalError(failure);
            }

            AfterChangeGuardedLocked();
        }
    }

    /// <summary>
    /// A bug in the core must not leave the socket deaf or crash the process from a timer: the
    /// exception is counted and reported on standard error, and the loop goes on.
    /// </summary>
    private void ReportInternalError(Exception failure)
    {
        InternalErrors++;
        Console.Error.WriteLine($"mallard.quic: internal error (please report): {failure}");
    }

    /// <summary>Hands one datagram to the core; a bug in the core is reported, not thrown (<see cref="ReportInternalError"/>).</summary>
    private void ReceiveGuarded(SocketAddress address, Span<byte> datagram)
    {
        try
        {
            _endpoint.Receive(HostClock.Now, address, datagram);
        }
        catch (Exception failure) when (failure is not OutOfMemoryException)
        {
            ReportInternalError(failure);
        }
    }

    /// <summary>
    /// Reads what the socket holds without blocking, at most <see cref="ReceiveBatch"/> datagrams:
    /// with one recvmmsg on Linux, else one FIONREAD and one recvfrom each.
    /// </summary>
    private void DrainLocked(Socket socket, byte[] buffer, SocketAddress address)
    {
        if (_batch is not null)
        {
            _batch.Receive(socket, address, _deliver, out int oversized);
            _endpoint.CountDropped(oversized);
            return;
        }

        for (int i = 0; i < ReceiveBatch; i++)
        {
            int received;
            try
            {
                if (socket.Available == 0)
                {
                    return;
                }

                received = socket.ReceiveFrom(buffer, SocketFlags.None, address);
            }
            catch (Exception interrupted) when (interrupted is SocketException or ObjectDisposedException)
            {
                return; // an ICMP error, or the socket closed while disposing
            }

            ReceiveGuarded(address, buffer.AsSpan(0, received));
        }
    }

    private async Task ReceiveLoopAsync(Socket socket)
    {
        // Each loop has its own buffer: after a rebind the old loop may still be finishing a receive.
        // With UDP GRO the batch reader reads everything, and the loop only waits (a peek).
        byte[] buffer = _batch is { Coalescing: true } ? [] : new byte[65_536];
        var address = new SocketAddress(socket.AddressFamily);
        var wakes = new List<IThreadPoolWorkItem>();
        while (!_stop.IsCancellationRequested)
        {
            int received = -1;
            try
            {
                if (_batch is { Coalescing: true })
                {
                    // With UDP GRO only the batch reader knows where joined datagrams end: wait
                    // until one is there without taking it, then read them all in the batch.
                    await socket.ReceiveAsync(Memory<byte>.Empty, SocketFlags.Peek, _stop.Token).ConfigureAwait(false);
                }
                else
                {
                    received = await socket.ReceiveFromAsync(buffer.AsMemory(), SocketFlags.None, address, _stop.Token).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (ObjectDisposedException)
            {
                return;
            }
            catch (SocketException)
            {
                continue; // ICMP errors surface here; the datagram is simply gone.
            }

            bool current;
            lock (Gate)
            {
                if (_disposed)
                {
                    return;
                }

                t_wakesAfterReceive = wakes;
                try
                {
                    current = ReferenceEquals(socket, _socket);
                    if (received >= 0)
                    {
                        ReceiveGuarded(address, buffer.AsSpan(0, received));
                    }

                    // Drain more only from the current socket; a socket replaced by a rebind is being closed.
                    if (current)
                    {
                        DrainLocked(socket, buffer, address);
                    }

                    // Waiters first: a reader woken on this thread goes on before the cycle's sends
                    // (an acknowledgement, say) rather than after their system call.
                    VisitTouchedGuardedLocked();
                    if (wakes.Count == 0)
                    {
                        AfterChangeGuardedLocked();
                    }
                }
                finally
                {
                    t_wakesAfterReceive = null;
                }
            }

            if (wakes.Count > 0)
            {
                RunWakesAfterReceive(wakes);
                lock (Gate)
                {
                    if (!_disposed)
                    {
                        AfterChangeGuardedLocked(); // what the receive queued, and what the woken readers sent
                    }
                }
            }

            if (!current)
            {
                return;
            }
        }
    }

    /// <summary>The send pump as a thread-pool work item of its own, queued again and again without a wrapper per run.</summary>
    private sealed class SendPumpWorkItem(EndpointHost host) : IThreadPoolWorkItem
    {
        public void Execute() => host.RunSendPump();
    }
}
