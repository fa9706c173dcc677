using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Mallard.Balancer.Configuration;
using Mallard.Balancer.Metrics;
using Mallard.Balancer.Routing;

namespace Mallard.Balancer.Forwarding;

/// <summary>
/// The relayed flows of one listener, shared by its forwarding threads. In per-client-address
/// mode a flow is keyed by (client address, backend). In per-connection mode it is also keyed by
/// every routable destination connection ID seen on it, so a client whose address changes finds
/// its flow, and the backend keeps seeing the same upstream port.
/// </summary>
/// <remarks>
/// What one remote host can take is bounded: at most <see cref="ProxySettings.MaxFlowsPerSourceAddress"/>
/// flows per source IP address, and when the table is full a new flow replaces the oldest flow
/// the backend never answered (a flood of junk opens only such flows), never an answered one, so
/// established connections keep working under a flood.
/// </remarks>
internal sealed class FlowTable : IDisposable
{
    // A connection uses a handful of connection IDs over its life; a flow that claims more is
    // not allowed to grow the index without bound.
    private const int MaxConnectionIdsPerFlow = 16;

    private readonly ConcurrentDictionary<(EndpointKey Client, EndpointKey Backend), Upstream> _byClient = new();
    private readonly ConcurrentDictionary<ConnectionIdKey, Upstream> _byConnectionId = new();
    private readonly ConcurrentDictionary<EndpointKey, int> _bySource = new();
    private ConcurrentQueue<Upstream> _evictionCandidates = new();
    private readonly Func<long> _clock;
    private readonly ReturnPathMode _mode;
    private readonly ProxyCounters _counters;
    private readonly Action<Backend, string> _reportFailure;
    private readonly Action<string> _reportLimit;
    private ProxySettings _settings;
    private FlowJournal? _journal;
    private int _flows;

    public FlowTable(ReturnPathMode mode, ProxySettings settings, ProxyCounters counters, Action<Backend, string> reportFailure, Action<string> reportLimit, Func<long> clock)
    {
        _mode = mode;
        _clock = clock;
        _settings = settings;
        _counters = counters;
        _reportFailure = reportFailure;
        _reportLimit = reportLimit;
    }

    public ReturnPathMode Mode => _mode;

    /// <summary>The counters this table's flows count into.</summary>
    public ProxyCounters Counters => _counters;

    /// <summary>Where opened flows are recorded so that a restarted balancer relays them again, or null.</summary>
    public FlowJournal? Journal
    {
        get => Volatile.Read(ref _journal);
        init => _journal = value;
    }

    /// <summary>This table's listener, by its index in the configuration (what the journal records).</summary>
    public int ListenerIndex { get; init; }

    public int Count => Volatile.Read(ref _flows);

    /// <summary>Proxy:ReturnPathHoldTime in milliseconds, as the current settings say.</summary>
    public long HoldMilliseconds => (long)Volatile.Read(ref _settings).ReturnPathHoldTime.TotalMilliseconds;

    /// <summary>The balancer's clock in milliseconds, the one time base of the data path.</summary>
    public long Now => _clock();

    /// <summary>Takes new limits after a reload; existing flows stay.</summary>
    public void Update(ProxySettings settings) => Volatile.Write(ref _settings, settings);

    /// <summary>
    /// The flow for a routed datagram from <paramref name="client"/>, opened if needed; null when
    /// the flow limit is reached or no upstream socket can be opened (counted and logged).
    /// </summary>
    /// <param name="decision">The router's decision (a backend, and the connection ID when routed by it).</param>
    /// <param name="client">The client's address as a key.</param>
    /// <param name="received">The client's address as received; copied when a flow keeps it.</param>
    /// <param name="length">The datagram's length (the return-path rule counts what each address sent).</param>
    /// <param name="now">The time, in milliseconds on the balancer's clock.</param>
    /// <param name="opened">Whether the flow is new: the calling thread then relays its replies.</param>
    public Upstream? Resolve(in RouteDecision decision, in EndpointKey client, SocketAddress received, int length, long now, out bool opened)
    {
        opened = false;
        Backend backend = decision.Backend!;
        ProxySettings settings = Volatile.Read(ref _settings);
        bool byConnection = _mode == ReturnPathMode.PerConnection && decision.Branch == RouteBranch.ConnectionId;
        EndpointKey backendKey = backend.Key;
        long hold = (long)settings.ReturnPathHoldTime.TotalMilliseconds;

        if (byConnection && _byConnectionId.TryGetValue(decision.RoutedConnectionId, out Upstream? known) && !known.IsClosed && known.BackendKey == backendKey)
        {
            EndpointKey before = known.ReturnPath.Key;
            if (known.NoteClient(client, received, length, now, hold))
            {
                _byClient.TryRemove(KeyValuePair.Create((before, backendKey), known));
                _byClient[(client, backendKey)] = known;
                Rerecord(known); // a balancer restarted from the journal sends to where the client is now
            }

            return known;
        }

        if (_byClient.TryGetValue((client, backendKey), out Upstream? upstream) && !upstream.IsClosed)
        {
            if (byConnection && upstream.TryAddConnectionId(MaxConnectionIdsPerFlow))
            {
                _byConnectionId[decision.RoutedConnectionId] = upstream;
            }

            upstream.NoteClient(client, received, length, now, hold);
            return upstream;
        }

        // Reserve the source's place first, so that threads racing for one host cannot overshoot.
        EndpointKey source = client.Address;
        int held = _bySource.AddOrUpdate(source, 1, (_, count) => count + 1);
        if (held > settings.MaxFlowsPerSourceAddress)
        {
            ReleaseSource(source);
            _counters.CountSourceFlowLimitReached();
            _reportLimit($"{source} holds {held - 1} flows (MaxFlowsPerSourceAddress); its new flows are dropped until some expire");
            return null;
        }

        // Likewise the table's place: taken first, then made room for, or given back.
        if (Interlocked.Increment(ref _flows) > settings.MaxFlows && !EvictUnanswered())
        {
            Interlocked.Decrement(ref _flows);
            ReleaseSource(source);
            _counters.CountFlowLimitReached();
            _reportLimit($"flow limit reached ({settings.MaxFlows} flows, all answered); new flows are dropped until idle ones expire");
            return null;
        }

        Upstream flow;
        try
        {
            flow = Upstream.Open(backend, ReturnPath.CopyOf(client, received), _counters, _reportFailure, settings, now);
        }
        catch (SocketException error)
        {
            Interlocked.Decrement(ref _flows);
            ReleaseSource(source);
            _counters.CountUpstreamSocketFailure();
            _reportLimit($"cannot open an upstream socket to {backend.Name}: {error.SocketErrorCode}");
            return null;
        }

        _counters.CountFlowOpened();
        if (!_byClient.TryAdd((client, backendKey), flow))
        {
            // Another thread opened the same flow first; use it.
            Interlocked.Decrement(ref _flows);
            ReleaseSource(source);
            flow.Dispose();
            return _byClient.TryGetValue((client, backendKey), out Upstream? winner) ? winner : null;
        }

        Volatile.Read(ref _evictionCandidates).Enqueue(flow);
        Record(flow);
        opened = true;
        if (byConnection && flow.TryAddConnectionId(MaxConnectionIdsPerFlow))
        {
            _byConnectionId[decision.RoutedConnectionId] = flow;
        }

        return flow;
    }

    /// <summary>
    /// Closes the oldest open flow the backend never answered, to make room; false when every
    /// flow has been answered. Flows leave the candidate queue as they are answered or closed, so
    /// the queue holds at most one entry per flow and each is looked at once.
    /// </summary>
    private bool EvictUnanswered()
    {
        while (Volatile.Read(ref _evictionCandidates).TryDequeue(out Upstream? candidate))
        {
            if (candidate.IsClosed || candidate.Answered)
            {
                continue;
            }

            if (_byClient.TryRemove(KeyValuePair.Create((candidate.ReturnPath.Key, candidate.BackendKey), candidate)))
            {
                Close(candidate);
                _counters.CountFlowEvicted();
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Starts recording flows in <paramref name="journal"/>, those open now included (a successor
    /// opens the journal only once the process it took over from has closed it).
    /// </summary>
    public void AttachJournal(FlowJournal journal)
    {
        Volatile.Write(ref _journal, journal);
        foreach (Upstream flow in _byClient.Values)
        {
            if (flow.JournalSlot < 0 && !flow.IsClosed)
            {
                Record(flow);
            }
        }
    }

    /// <summary>Stops recording flows: the journal now belongs to the process this one handed over to.</summary>
    public void DetachJournal() => Volatile.Write(ref _journal, null);

    /// <summary>The connection IDs each flow is known by (per-connection return path), for a hand-over.</summary>
    public Dictionary<Upstream, List<ConnectionIdKey>> ConnectionIdsByFlow()
    {
        var byFlow = new Dictionary<Upstream, List<ConnectionIdKey>>(ReferenceEqualityComparer.Instance);
        foreach (KeyValuePair<ConnectionIdKey, Upstream> entry in _byConnectionId)
        {
            if (!byFlow.TryGetValue(entry.Value, out List<ConnectionIdKey>? ids))
            {
                byFlow[entry.Value] = ids = [];
            }

            ids.Add(entry.Key);
        }

        return byFlow;
    }

    /// <summary>
    /// Takes in a flow that another process handed over with its socket, known also by
    /// <paramref name="connectionIds"/>; false when the limits leave no room for it (it is closed).
    /// </summary>
    public bool AdoptHanded(Upstream flow, IReadOnlyList<ConnectionIdKey> connectionIds)
    {
        if (!Adopt(flow, handed: true))
        {
            return false;
        }

        foreach (ConnectionIdKey id in connectionIds)
        {
            if (flow.TryAddConnectionId(MaxConnectionIdsPerFlow))
            {
                _byConnectionId[id] = flow;
            }
        }

        return true;
    }

    /// <summary>
    /// Takes in a flow a previous process relayed (restored from the <see cref="Journal"/>, or
    /// handed over with its socket) as if it had just opened; false when the limits leave no room
    /// for it (it is closed).
    /// </summary>
    public bool Adopt(Upstream flow, bool handed = false)
    {
        ProxySettings settings = Volatile.Read(ref _settings);
        EndpointKey source = flow.Source;
        if (_bySource.AddOrUpdate(source, 1, (_, count) => count + 1) > settings.MaxFlowsPerSourceAddress)
        {
            ReleaseSource(source);
            flow.Discard();
            return false;
        }

        if (Interlocked.Increment(ref _flows) > settings.MaxFlows)
        {
            Interlocked.Decrement(ref _flows);
            ReleaseSource(source);
            flow.Discard();
            return false;
        }

        if (!_byClient.TryAdd((flow.ReturnPath.Key, flow.BackendKey), flow))
        {
            Interlocked.Decrement(ref _flows);
            ReleaseSource(source);
            flow.Discard();
            return false;
        }

        Volatile.Read(ref _evictionCandidates).Enqueue(flow);
        Record(flow);
        if (handed)
        {
            _counters.CountFlowTakenOver();
        }
        else
        {
            _counters.CountFlowRestored();
        }

        return true;
    }

    private void Rerecord(Upstream flow)
    {
        if (Journal is FlowJournal journal)
        {
            journal.Forget(flow.ReleaseJournalSlot());
            Record(flow);
        }
    }

    private void Record(Upstream flow)
    {
        if (Journal is not FlowJournal journal)
        {
            return;
        }

        SocketAddress address = flow.ReturnPath.Address;
        var client = (IPEndPoint)new IPEndPoint(address.Family == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any, 0).Create(address);
        int slot = journal.Record(new FlowJournal.JournalRecord(ListenerIndex, client, flow.Backend.Address, flow.LocalEndpoint.Port));
        if (!flow.TryTakeJournalSlot(slot))
        {
            journal.Forget(slot); // recorded twice at once (a journal attached while the flow opened)
        }
    }

    /// <summary>Closes a flow taken out of the table and releases its place.</summary>
    private void Close(Upstream upstream)
    {
        if (upstream.IsClosed)
        {
            return;
        }

        Journal?.Forget(upstream.ReleaseJournalSlot());
        upstream.Dispose();
        Interlocked.Decrement(ref _flows);
        ReleaseSource(upstream.Source);
    }

    private void ReleaseSource(in EndpointKey source)
    {
        if (_bySource.AddOrUpdate(source, 0, (_, count) => count - 1) <= 0)
        {
            _bySource.TryRemove(KeyValuePair.Create(source, 0));
        }
    }

    /// <summary>Flows held by one source address now.</summary>
    public int FlowsFrom(in EndpointKey source) => _bySource.TryGetValue(source.Address, out int count) ? count : 0;

    /// <summary>Counts a reply that a forwarding thread could not send to its client.</summary>
    public void CountClientSendError() => _counters.CountClientSendError();

    /// <summary>Closes flows idle for longer than the timeout or whose backend was removed.</summary>
    public int Sweep(long now)
    {
        long idle = (long)Volatile.Read(ref _settings).FlowIdleTimeout.TotalMilliseconds;
        int closed = 0;
        foreach (KeyValuePair<(EndpointKey, EndpointKey), Upstream> entry in _byClient)
        {
            Upstream upstream = entry.Value;
            if (upstream.IsClosed || upstream.Backend.IsRetired || now - upstream.LastActivity > idle)
            {
                if (_byClient.TryRemove(entry) && !upstream.IsClosed)
                {
                    Close(upstream);
                    closed++;
                }
            }
        }

        foreach (KeyValuePair<ConnectionIdKey, Upstream> entry in _byConnectionId)
        {
            if (entry.Value.IsClosed)
            {
                _byConnectionId.TryRemove(entry);
            }
        }

        // Answered and closed flows leave the eviction queue lazily; keep it near the table's size.
        if (_evictionCandidates.Count > (2 * Count) + 64)
        {
            Volatile.Write(ref _evictionCandidates, new ConcurrentQueue<Upstream>(
                _byClient.Values.Where(u => !u.IsClosed && !u.Answered).Distinct().OrderBy(u => u.LastActivity)));
        }

        return closed;
    }

    /// <summary>The flows, for the status page and tests.</summary>
    public IReadOnlyList<Upstream> Snapshot() => [.. _byClient.Values.Distinct()];

    public void Dispose()
    {
        foreach (Upstream upstream in _byClient.Values)
        {
            upstream.Dispose();
        }

        _byClient.Clear();
        _byConnectionId.Clear();
        _bySource.Clear();
        _evictionCandidates.Clear();
    }
}
