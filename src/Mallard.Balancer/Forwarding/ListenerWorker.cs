using System.Net;
using System.Net.Sockets;
using Mallard.Balancer.Forwarding.Linux;
using Mallard.Balancer.Routing;

namespace Mallard.Balancer.Forwarding;

/// <summary>
/// One forwarding thread of a listener: receives client datagrams on its listening socket (one of
/// several SO_REUSEPORT sockets on Linux, so the kernel spreads clients over threads), routes each
/// with its own <see cref="PacketRouter"/>, relays it through the listener's
/// <see cref="FlowTable"/> and relays the backend's replies of the flows it opens. Two data
/// planes implement it: <see cref="BatchedWorker"/> (Linux: epoll, recvmmsg/sendmmsg, GSO) and
/// <see cref="PortableWorker"/> (blocking .NET socket calls). Flows are plain state; the return
/// path and flow limits live in <see cref="FlowTable"/> and <see cref="ReturnPathState"/>, and
/// both planes read the balancer's clock through <see cref="FlowTable.Now"/>.
/// </summary>
internal abstract class ListenerWorker : IDisposable
{
    /// <summary>How often a thread sweeps its router's decision tables, in milliseconds.</summary>
    protected const int SweepIntervalMilliseconds = 1000;

    private readonly System.Collections.Concurrent.ConcurrentQueue<Upstream> _adopted = new();
    private readonly Thread _thread;
    private readonly ManualResetEventSlim _idle = new(false);
    private readonly ManualResetEventSlim _resume = new(false);
    private volatile bool _stopping;
    private volatile bool _paused;

    protected ListenerWorker(Socket socket, FlowTable flows, RoutingState routing, string name, int maxDatagramSize)
    {
        Socket = socket;
        Flows = flows;
        MaxDatagramSize = maxDatagramSize;
        Router = new PacketRouter(routing);
        _thread = new Thread(Body) { IsBackground = true, Name = name };
    }

    /// <summary>Whether this thread uses the Linux batched data plane.</summary>
    public abstract bool IsBatched { get; }

    public PacketRouter Router { get; }

    /// <summary>Datagrams received from clients.</summary>
    public long Received { get; protected set; }

    protected Socket Socket { get; }

    protected FlowTable Flows { get; }

    protected int MaxDatagramSize { get; }

    /// <summary>Whether the loop must end: the worker is being disposed or paused.</summary>
    protected bool Stopping => _stopping || _paused;

    /// <summary>The Linux batched plane where asked for and available, the portable one otherwise.</summary>
    public static ListenerWorker Create(Socket socket, FlowTable flows, RoutingState routing, string name, bool batched, int maxDatagramSize) =>
        batched ? new BatchedWorker(socket, flows, routing, name, maxDatagramSize) : new PortableWorker(socket, flows, routing, name, maxDatagramSize);

    public void Start() => _thread.Start();

    /// <summary>
    /// Asks the thread to leave its loop, leaving every socket open: datagrams queue in the
    /// kernel until this worker resumes or another process takes the sockets over (hand-over).
    /// Call <see cref="WaitPaused"/> next; asking every thread first lets them stop together.
    /// </summary>
    public void Pause()
    {
        _paused = true;
        Wake();
    }

    /// <summary>Waits until the thread has left its loop after <see cref="Pause"/> (it then waits, alive, for <see cref="Resume"/>).</summary>
    public void WaitPaused()
    {
        if (_thread.IsAlive && Thread.CurrentThread != _thread)
        {
            _idle.Wait();
        }
    }

    /// <summary>Runs the loop again after <see cref="Pause"/>, with the flows it relayed before.</summary>
    public void Resume()
    {
        _idle.Reset();
        _paused = false;
        _resume.Set();
    }

    /// <summary>The listening socket, for a hand-over.</summary>
    public Socket ListeningSocket => Socket;

    /// <summary>Wakes the loop at once to see <see cref="Stopping"/> (otherwise it notices within a sweep interval).</summary>
    protected virtual void Wake()
    {
    }

    /// <summary>Gives this thread a flow restored from the journal, to relay its replies as of one it opened; call before <see cref="Start"/>.</summary>
    public void Adopt(Upstream upstream) => _adopted.Enqueue(upstream);

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
            Mallard.Linux.DontFragment.Apply(socket); // replies to clients: no fragments either
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
        _resume.Set();
        Wake();
        Socket.Dispose();
        if (_thread.IsAlive && Thread.CurrentThread != _thread)
        {
            _thread.Join(TimeSpan.FromSeconds(5));
        }

        Released();
    }

    /// <summary>Frees what the data plane holds beyond the sockets, once the thread has ended.</summary>
    protected virtual void Released()
    {
    }

    /// <summary>The thread's loop, until <see cref="Stopping"/>.</summary>
    protected abstract void Run();

    // The thread: the loop, and after a pause a wait to run it again.
    private void Body()
    {
        while (true)
        {
            Run();
            _idle.Set();
            if (_stopping)
            {
                return;
            }

            _resume.Wait();
            _resume.Reset();
            if (_stopping)
            {
                return;
            }
        }
    }

    /// <summary>Takes over the replies of a flow this thread just opened.</summary>
    protected abstract void OnFlowOpened(Upstream upstream);

    /// <summary>Takes over the flows given to this thread with <see cref="Adopt"/>; the loop calls it as it begins.</summary>
    protected void TakeAdopted()
    {
        while (_adopted.TryDequeue(out Upstream? upstream))
        {
            OnFlowOpened(upstream);
        }
    }

    /// <summary>Routes one client datagram and finds or opens its flow; null when it is dropped.</summary>
    protected Upstream? Resolve(ReadOnlySpan<byte> datagram, SocketAddress from, long now)
    {
        var client = EndpointKey.From(from);
        RouteDecision decision = Router.Route(datagram, client, now);
        if (decision.IsDropped)
        {
            return null;
        }

        Upstream? upstream = Flows.Resolve(decision, client, from, datagram.Length, now, out bool opened);
        if (opened)
        {
            OnFlowOpened(upstream!);
        }

        return upstream;
    }
}
