using System.Net;
using System.Net.Sockets;
using Mallard.Balancer.Routing;

namespace Mallard.Balancer.Forwarding;

/// <summary>
/// One forwarding thread: receives client datagrams on its listening socket (one of several
/// SO_REUSEPORT sockets on Linux, so the kernel spreads clients over threads), routes each with
/// its own <see cref="PacketRouter"/> and relays it through the listener's <see cref="FlowTable"/>.
/// Nothing is allocated per packet.
/// </summary>
internal sealed class ListenerWorker : IDisposable
{
    private const int SweepIntervalMilliseconds = 1000;

    private readonly Socket _socket;
    private readonly FlowTable _flows;
    private readonly Thread _thread;
    private volatile bool _stopping;

    public ListenerWorker(Socket socket, FlowTable flows, RoutingState routing, string name)
    {
        _socket = socket;
        _flows = flows;
        Router = new PacketRouter(routing);
        _thread = new Thread(Run) { IsBackground = true, Name = name };
    }

    public PacketRouter Router { get; }

    /// <summary>Datagrams received from clients.</summary>
    public long Received { get; private set; }

    public void Start() => _thread.Start();

    /// <summary>
    /// Opens a listening socket. With <paramref name="reusePort"/> several sockets share the
    /// address and the kernel hashes each client 4-tuple to one of them.
    /// </summary>
    public static Socket Bind(IPEndPoint endpoint, bool reusePort)
    {
        var socket = new Socket(endpoint.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            if (endpoint.AddressFamily == AddressFamily.InterNetworkV6)
            {
                socket.DualMode = false;
            }

            if (reusePort)
            {
                const int SolSocket = 1;
                const int SoReusePort = 15;
                socket.SetRawSocketOption(SolSocket, SoReusePort, BitConverter.GetBytes(1));
            }

            socket.ReceiveBufferSize = 4 << 20;
            socket.SendBufferSize = 4 << 20;
            socket.ReceiveTimeout = SweepIntervalMilliseconds;
            socket.Bind(endpoint);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        _stopping = true;
        _socket.Dispose();
        if (_thread.IsAlive && Thread.CurrentThread != _thread)
        {
            _thread.Join(TimeSpan.FromSeconds(5));
        }
    }

    private void Run()
    {
        byte[] buffer = GC.AllocateUninitializedArray<byte>(65_536, pinned: true);
        var from = new SocketAddress(_socket.AddressFamily);
        long lastSweep = Environment.TickCount64;
        while (!_stopping)
        {
            int received = -1;
            try
            {
                received = _socket.ReceiveFrom(buffer, SocketFlags.None, from);
            }
            catch (SocketException error) when (error.SocketErrorCode is SocketError.TimedOut or SocketError.WouldBlock
                or SocketError.ConnectionReset or SocketError.MessageSize or SocketError.Interrupted)
            {
                // A timeout lets the thread sweep while idle; the rest concern one datagram only.
            }
            catch (SocketException) when (_stopping)
            {
                return;
            }
            catch (ObjectDisposedException)
            {
                return;
            }

            long now = Environment.TickCount64;
            if (received >= 0)
            {
                Received++;
                Forward(buffer.AsSpan(0, received), from, now);
            }

            if (now - lastSweep >= SweepIntervalMilliseconds)
            {
                lastSweep = now;
                Router.Sweep(now);
            }
        }
    }

    private void Forward(ReadOnlySpan<byte> datagram, SocketAddress from, long now)
    {
        var client = EndpointKey.From(from);
        RouteDecision decision = Router.Route(datagram, client, now);
        if (decision.IsDropped)
        {
            return;
        }

        _flows.Resolve(decision, client, from, _socket, now)?.Send(datagram, now);
    }
}
