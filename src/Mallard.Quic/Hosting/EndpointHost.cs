using System.Net;
using System.Net.Sockets;
using Mallard.Quic.Connections;

namespace Mallard.Quic.Hosting;

/// <summary>
/// The I/O host of one UDP socket: feeds received datagrams and timer expiry to the sans-IO
/// <see cref="Endpoint"/>, sends what it produces, and wakes the async API. Every call into the
/// core happens under <see cref="Gate"/>; after each one <see cref="AfterChangeLocked"/> sends,
/// re-arms the single timer and pulses the connections' signals.
/// </summary>
internal sealed class EndpointHost : IAsyncDisposable
{
    /// <summary>More datagrams read in one go when the socket has them, before sending answers.</summary>
    private const int ReceiveBatch = 32;

    private readonly Endpoint _endpoint;
    private Socket _socket;
    private readonly byte[] _sendBuffer = new byte[65_536];
    private readonly Timer _timer;
    private readonly CancellationTokenSource _stop = new();
    private readonly Dictionary<Connection, QuicConnection> _handles = [];
    private readonly Action<Connection> _visitTouched;
    private Task _receiveLoop = Task.CompletedTask;
    private bool _disposed;

    public EndpointHost(Socket socket, Endpoint endpoint)
    {
        _visitTouched = VisitTouched;
        _socket = socket;
        _endpoint = endpoint;
        _timer = new Timer(_ => OnTimer());
        LocalEndPoint = (IPEndPoint)socket.LocalEndPoint!;
    }

    /// <summary>The lock that serialises every call into the sans-IO core.</summary>
    public object Gate { get; } = new();

    public IPEndPoint LocalEndPoint { get; private set; }

    /// <summary>Unexpected exceptions caught in the receive loop or the timer (each one is a bug).</summary>
    public long InternalErrors { get; private set; }

    public Endpoint Endpoint => _endpoint;

    /// <summary>Called under the lock when a server connection finishes its handshake.</summary>
    public Action<QuicConnection>? ConnectionReady { get; set; }

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
    public void Register(Connection connection, QuicConnection handle) => _handles[connection] = handle;

    /// <summary>
    /// Sends what the core has queued, wakes the waiters of the connections that something happened
    /// to, forgets closed connections and re-arms the timer; <paramref name="changed"/> names a
    /// connection the application changed. Touches only connections with work, never all of
    /// them. Call under <see cref="Gate"/>.
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

        long now = HostClock.Now;
        int length;
        while ((length = _endpoint.Send(now, _sendBuffer, out SocketAddress? destination)) > 0)
        {
            try
            {
                _socket.SendTo(_sendBuffer.AsSpan(0, length), SocketFlags.None, destination!);
            }
            catch (SocketException)
            {
                // A full send buffer or an unreachable peer is a lost datagram; recovery handles it.
            }
        }

        _endpoint.ProcessTouched(_visitTouched);
        if (_endpoint.NextTimeout is long next)
        {
            long dueMilliseconds = Math.Max(0, (next - now + 999) / 1000);
            _timer.Change(dueMilliseconds, Timeout.Infinite);
        }
        else
        {
            _timer.Change(Timeout.Infinite, Timeout.Infinite);
        }
    }

    /// <summary>Wakes the waiters of a touched connection, and lets go of its handle once it has closed.</summary>
    private void VisitTouched(Connection connection)
    {
        if (_handles.TryGetValue(connection, out QuicConnection? handle))
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
            foreach (QuicConnection handle in _handles.Values)
            {
                handle.OnHostCycleLocked();
            }

            _endpoint.Dispose();
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

            Guard(() =>
            {
                _endpoint.OnTimeout(HostClock.Now);
                AfterChangeLocked();
            });
        }
    }

    /// <summary>
    /// A bug in the core must not leave the socket deaf or crash the process from a timer: the
    /// exception is counted and reported on standard error, and the loop goes on.
    /// </summary>
    private void Guard(Action action)
    {
        try
        {
            action();
        }
        catch (Exception failure) when (failure is not OutOfMemoryException)
        {
            InternalErrors++;
            Console.Error.WriteLine($"mallard.quic: internal error (please report): {failure}");
        }
    }

    private async Task ReceiveLoopAsync(Socket socket)
    {
        // Each loop has its own buffer: after a rebind the old loop may still be finishing a receive.
        byte[] buffer = new byte[65_536];
        var address = new SocketAddress(socket.AddressFamily);
        while (!_stop.IsCancellationRequested)
        {
            int received;
            try
            {
                received = await socket.ReceiveFromAsync(buffer.AsMemory(), SocketFlags.None, address, _stop.Token).ConfigureAwait(false);
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

            lock (Gate)
            {
                if (_disposed)
                {
                    return;
                }

                int first = received;
                bool current = ReferenceEquals(socket, _socket);
                Guard(() => _endpoint.Receive(HostClock.Now, address, buffer.AsSpan(0, first)));

                // Drain more only from the current socket; a socket replaced by a rebind is being closed.
                for (int i = 0; current && i < ReceiveBatch; i++)
                {
                    try
                    {
                        if (socket.Available == 0)
                        {
                            break;
                        }

                        received = socket.ReceiveFrom(buffer, SocketFlags.None, address);
                    }
                    catch (Exception interrupted) when (interrupted is SocketException or ObjectDisposedException)
                    {
                        break; // an ICMP error, or the socket closed while disposing
                    }

                    int next = received;
                    Guard(() => _endpoint.Receive(HostClock.Now, address, buffer.AsSpan(0, next)));
                }

                Guard(() => AfterChangeLocked());
                if (!current)
                {
                    return;
                }
            }
        }
    }
}
