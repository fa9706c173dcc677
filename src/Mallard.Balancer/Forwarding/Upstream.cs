using System.Net;
using System.Net.Sockets;
using Mallard.Balancer.Configuration;
using Mallard.Balancer.Metrics;
using Mallard.Balancer.Routing;

namespace Mallard.Balancer.Forwarding;

/// <summary>
/// One relayed flow, as plain state: a UDP socket on its own local port, connected to the
/// backend, the client address its replies go to (<see cref="ReturnPathState"/>) and its
/// counters. Client datagrams are sent on it by forwarding threads; the thread that opened it
/// relays the backend's replies (<see cref="ListenerWorker"/>).
/// </summary>
internal sealed class Upstream : IDisposable
{
    private readonly Socket _socket;
    private readonly ProxyCounters _counters;
    private readonly Action<Backend, string> _reportFailure;
    private readonly int _maxDatagramSize;
    private readonly ReturnPathState _returnPath;
    private long _lastActivity;
    private int _connectionIds;
    private int _answered;
    private int _journalSlot = -1;
    private volatile bool _closed;

    private Upstream(Socket socket, Backend backend, ReturnPath returnPath, ProxyCounters counters,
        Action<Backend, string> reportFailure, ProxySettings settings, long now)
    {
        _socket = socket;
        Backend = backend;
        _returnPath = new ReturnPathState(returnPath, now);
        _counters = counters;
        _reportFailure = reportFailure;
        _maxDatagramSize = settings.MaxDatagramSize;
        _lastActivity = now;
        Source = returnPath.Key.Address;
    }

    public Backend Backend { get; }

    /// <summary>The backend's address as a table key.</summary>
    public EndpointKey BackendKey { get; private init; }

    /// <summary>The current return path.</summary>
    public ReturnPath ReturnPath => _returnPath.Current;

    /// <summary>The address (without port) of the client that opened the flow, for per-source limits.</summary>
    public EndpointKey Source { get; }

    /// <summary>Whether the backend has answered on this flow (flows that never were are evicted first).</summary>
    public bool Answered => Volatile.Read(ref _answered) != 0;

    /// <summary>The local port the backend sees.</summary>
    public IPEndPoint LocalEndpoint => (IPEndPoint)_socket.LocalEndPoint!;

    public long LastActivity => Volatile.Read(ref _lastActivity);

    public bool IsClosed => _closed;

    /// <summary>The upstream socket, whose replies the forwarding thread that opened the flow reads.</summary>
    public Socket Socket => _socket;

    /// <summary>Counts a reply that a forwarding thread read from this flow; false when it is too large to relay.</summary>
    public bool NoteReply(int length, long now)
    {
        if (length > _maxDatagramSize)
        {
            _counters.CountOversizedReply();
            return false;
        }

        Volatile.Write(ref _lastActivity, now);
        Volatile.Write(ref _answered, 1);
        Backend.Counters.CountFromBackend(length);
        return true;
    }

    /// <summary>Where a reply of <paramref name="length"/> octets goes (see <see cref="ReturnPathState"/>).</summary>
    public SocketAddress ReplyDestination(int length, long now, long holdMilliseconds) => _returnPath.ReplyDestination(length, now, holdMilliseconds);

    /// <summary>Reports an ICMP port unreachable seen while reading this flow.</summary>
    public void NoteUnreachable() => _reportFailure(Backend, "ICMP port unreachable");

    /// <summary>Counts a reply that could not be sent to the client.</summary>
    public void NoteClientSendError() => _counters.CountClientSendError();

    /// <summary>
    /// Opens the upstream socket; throws <see cref="SocketException"/> when no port or descriptor
    /// is left. With a port range, the port is derived from the client address and the backend,
    /// trying a few neighbours when it is taken, and the kernel's choice after that.
    /// </summary>
    public static Upstream Open(Backend backend, ReturnPath returnPath, ProxyCounters counters,
        Action<Backend, string> reportFailure, ProxySettings settings, long now, int? port = null)
    {
        var socket = new Socket(backend.Address.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            Mallard.Linux.DontFragment.Apply(socket); // a relayed path MTU probe too large for this hop is dropped, as a router would
            if (port is int restored && TryBind(socket, restored, backend.Address.AddressFamily))
            {
                // The port a previous process relayed this flow from (FlowJournal): the backend sees no change.
            }
            else if (settings.UpstreamPorts is PortRange range)
            {
                BindStablePort(socket, range, returnPath.Key.StableHash(backend.Key.StableHash(0)), backend.Address.AddressFamily);
            }

            socket.Connect(backend.Address);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        return new Upstream(socket, backend, returnPath, counters, reportFailure, settings, now)
        {
            BackendKey = EndpointKey.From(backend.Address),
        };
    }

    /// <summary>Where this flow's record is in the <see cref="FlowJournal"/>, or -1.</summary>
    public int JournalSlot => Volatile.Read(ref _journalSlot);

    /// <summary>Keeps <paramref name="slot"/> as this flow's record; false when it already has one (the caller frees <paramref name="slot"/>).</summary>
    public bool TryTakeJournalSlot(int slot) => Interlocked.CompareExchange(ref _journalSlot, slot, -1) == -1;

    /// <summary>Gives up this flow's record slot; returns it (or -1) for the journal to free.</summary>
    public int ReleaseJournalSlot() => Interlocked.Exchange(ref _journalSlot, -1);

    /// <summary>
    /// Wraps an upstream socket another process opened for this flow and handed over: the
    /// backend sees the same port, and the datagrams queued on it are read here.
    /// </summary>
    public static Upstream FromHandedSocket(Socket socket, Backend backend, ReturnPath returnPath, ProxyCounters counters,
        Action<Backend, string> reportFailure, ProxySettings settings, long lastActivity, bool answered) =>
        new(socket, backend, returnPath, counters, reportFailure, settings, lastActivity)
        {
            BackendKey = EndpointKey.From(backend.Address),
            _answered = answered ? 1 : 0,
        };

    private static bool TryBind(Socket socket, int port, AddressFamily family)
    {
        try
        {
            socket.Bind(new IPEndPoint(family == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any, port));
            return true;
        }
        catch (SocketException error) when (error.SocketErrorCode is SocketError.AddressAlreadyInUse or SocketError.AccessDenied)
        {
            return false;
        }
    }

    private static void BindStablePort(Socket socket, PortRange range, ulong hash, AddressFamily family)
    {
        const int Attempts = 16;
        IPAddress any = family == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any;
        int start = (int)(hash % (ulong)range.Count);
        for (int i = 0; i < Math.Min(Attempts, range.Count); i++)
        {
            try
            {
                socket.Bind(new IPEndPoint(any, range.First + ((start + i) % range.Count)));
                return;
            }
            catch (SocketException error) when (error.SocketErrorCode is SocketError.AddressAlreadyInUse or SocketError.AccessDenied)
            {
            }
        }
    }

    /// <summary>Counts one more connection ID mapped to this flow; false when it already has enough.</summary>
    public bool TryAddConnectionId(int limit) => Interlocked.Increment(ref _connectionIds) <= limit;

    /// <summary>Relays one client datagram to the backend.</summary>
    public void Send(ReadOnlySpan<byte> datagram, long now)
    {
        Volatile.Write(ref _lastActivity, now);
        try
        {
            _socket.Send(datagram, SocketFlags.None);
            Backend.Counters.CountToBackend(datagram.Length);
        }
        catch (SocketException error)
        {
            // A connected UDP socket reports an earlier ICMP port-unreachable on the next call.
            NoteSendError(error.SocketErrorCode == SocketError.ConnectionRefused);
        }
        catch (ObjectDisposedException)
        {
            NoteSendError(refused: false);
        }
    }

    /// <summary>Counts datagrams a forwarding thread sent on this flow's socket itself (batched I/O).</summary>
    public void NoteSent(int packets, long bytes, long now)
    {
        Volatile.Write(ref _lastActivity, now);
        Backend.Counters.CountToBackend(packets, bytes);
    }

    /// <summary>Counts a datagram that could not be sent to the backend; <paramref name="refused"/> for ICMP port unreachable.</summary>
    public void NoteSendError(bool refused)
    {
        _counters.CountBackendSendError();
        Backend.Counters.CountSendError();
        if (refused)
        {
            NoteUnreachable();
        }
    }

    /// <summary>
    /// Notes a client datagram of <paramref name="length"/> octets from <paramref name="client"/>
    /// and applies the return-path rule of per-connection mode (<see cref="ReturnPathState"/>);
    /// returns true when the return path changed address.
    /// </summary>
    public bool NoteClient(in EndpointKey client, SocketAddress received, int length, long now, long holdMilliseconds)
    {
        switch (_returnPath.OnClientDatagram(client, received, length, now, holdMilliseconds))
        {
            case ReturnPathState.Change.Moved:
                _counters.CountReturnPathMoved();
                return true;
            case ReturnPathState.Change.Regained:
                _counters.CountReturnPathRegained();
                return true;
            case ReturnPathState.Change.Held:
                _counters.CountReturnPathHeld();
                return false;
            default:
                return false;
        }
    }

    public void Dispose()
    {
        if (_closed)
        {
            return;
        }

        _closed = true;
        _socket.Dispose();
        _counters.CountFlowClosed();
    }

    /// <summary>Closes a flow that was never counted open (restored or handed over, then refused by the limits).</summary>
    public void Discard()
    {
        _closed = true;
        _socket.Dispose();
    }
}
