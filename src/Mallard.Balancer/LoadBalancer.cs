using System.Diagnostics.Metrics;
using System.Net;
using Mallard.Balancer.Admin;
using Mallard.Balancer.Configuration;
using Mallard.Balancer.Forwarding;
using Mallard.Balancer.Forwarding.Linux;
using Mallard.Balancer.HandOver;
using Mallard.Balancer.Health;
using Mallard.Balancer.Metrics;
using Mallard.Balancer.Routing;
using Microsoft.Extensions.Logging;
using Mallard.Linux;

namespace Mallard.Balancer;

/// <summary>
/// A running <c>mallard lb</c>: listeners with their forwarding threads (data plane), and the
/// control plane that validates reloads, tracks backend health and publishes routing snapshots.
/// </summary>
public sealed class LoadBalancer : IAsyncDisposable
{
    /// <summary>The name of the <see cref="Meter"/> that carries the balancer's metrics (for <c>dotnet-counters</c>).</summary>
    public const string MeterName = "Mallard.Balancer";

    private const long LimitLogIntervalMilliseconds = 10_000;

    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly Lock _control = new();
    private readonly Dictionary<IPEndPoint, (BackendHealth Health, BackendCounters Counters)> _backendState = [];
    private readonly List<Listener> _listeners = [];
    private readonly RoutingState _routing;
    private readonly Timer _sweeper;
    private readonly Meter _meter;
    private readonly TaskCompletionSource<int> _handedOver = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private HealthChecker? _health;
    private FlowJournal? _journal;
    private HandOverServer? _handOverServer;
    private AdminServer? _admin;
    private OpenTelemetry.Metrics.MeterProvider? _otlp;
    private long _generation;
    private long _lastLimitLog = long.MinValue / 2;

    private LoadBalancer(BalancerSettings settings, ILoggerFactory loggerFactory, TimeProvider time)
    {
        _logger = loggerFactory.CreateLogger("Mallard.Balancer");
        _time = time;
        _routing = new RoutingState(BuildSnapshot(settings));
        StartedAt = time.GetUtcNow();
        _sweeper = new Timer(_ => Sweep(), null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
        _meter = new Meter(MeterName);
        MetricFamilies = BalancerMetrics.Create(this);
        BalancerMetrics.Register(_meter, MetricFamilies);
    }

    /// <summary>The running configuration.</summary>
    public BalancerSettings Settings => _routing.Current.Settings;

    /// <summary>The bound listening addresses, in configuration order.</summary>
    public IReadOnlyList<IPEndPoint> ListenEndpoints => [.. _listeners.Select(l => l.Endpoint)];

    /// <summary>The admin HTTP endpoint, when one is configured.</summary>
    public IPEndPoint? AdminEndpoint => _admin?.Endpoint;

    /// <summary>The configured backends with their health and counters.</summary>
    public IReadOnlyList<Backend> Backends => _routing.Current.Backends;

    /// <summary>Relay counters.</summary>
    public ProxyCounters ProxyCounters { get; } = new();

    /// <summary>When the balancer started.</summary>
    public DateTimeOffset StartedAt { get; }

    /// <summary>
    /// Completes with the successor's process ID once another <c>mallard lb</c> has taken over
    /// this one's sockets and flows through <c>Proxy:HandOverSocket</c>. This balancer forwards
    /// nothing more; dispose it (its copies of the sockets close, the successor's stay open).
    /// </summary>
    public Task<int> HandedOver => _handedOver.Task;

    internal IReadOnlyList<MetricFamily> MetricFamilies { get; }

    internal IReadOnlyList<Listener> Listeners => _listeners;

    internal RoutingSnapshot Snapshot => _routing.Current;

    internal RoutingState Routing => _routing;

    /// <summary>Binds the listeners and the admin endpoint and starts forwarding and health checks.</summary>
    /// <exception cref="System.Net.Sockets.SocketException">A listening address cannot be bound.</exception>
    public static Task<LoadBalancer> StartAsync(BalancerSettings settings, ILoggerFactory loggerFactory, TimeProvider? time = null, CancellationToken cancellation = default) =>
        StartAsync(settings, loggerFactory, LinuxNative.IsSupported && Environment.GetEnvironmentVariable("MALLARD_LB_PORTABLE_IO") != "1", time, cancellation);

    /// <summary>Starts with the Linux batched data plane or, when <paramref name="batched"/> is false, the portable one.</summary>
    internal static async Task<LoadBalancer> StartAsync(BalancerSettings settings, ILoggerFactory loggerFactory, bool batched, TimeProvider? time = null, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(loggerFactory);
        var balancer = new LoadBalancer(settings, loggerFactory, time ?? TimeProvider.System);
        List<(HandedItem Item, System.Net.Sockets.Socket Socket)> handed = [];
        HandOverClient? predecessor = null;
        try
        {
            // The flow tables come first: a successor builds all it can before the running balancer pauses.
            var tables = new List<FlowTable>(settings.Listeners.Count);
            for (int index = 0; index < settings.Listeners.Count; index++)
            {
                tables.Add(new FlowTable(settings.Listeners[index].ReturnPath, settings.Proxy, balancer.ProxyCounters, balancer.ReportPassiveFailure, balancer.ReportRelayLimit, balancer.Milliseconds)
                {
                    ListenerIndex = index,
                });
            }

            long started = System.Diagnostics.Stopwatch.GetTimestamp();
            if (settings.Proxy.HandOverSocket is string handOverPath && batched)
            {
                // A running balancer answering there hands over its sockets: nothing is rebound,
                // no datagram is lost. A refusal stops this start (HandOverRefusedException).
                if (File.Exists(handOverPath))
                {
                    // Compiled and logged once before the running balancer pauses, not while.
                    HandOverLog.Asking(balancer._logger, handOverPath);
                    HandOverWarmUp.Prepare();
                    HandOverWarmUp.Rehearse(balancer, batched);
                    started = System.Diagnostics.Stopwatch.GetTimestamp();
                }

                predecessor = HandOverClient.TryConnect(handOverPath, balancer._logger);
                try
                {
                    handed = predecessor?.TakeOver() ?? [];
                }
                catch (IOException failure)
                {
                    HandOverLog.NoPredecessor(balancer._logger, handOverPath, failure.Message);
                    predecessor!.Dispose();
                    predecessor = null;
                }
            }

            IReadOnlyList<FlowJournal.JournalRecord> previous = [];
            if (predecessor is null && settings.Proxy.FlowJournal is string journalPath)
            {
                balancer._journal = OpenJournal(journalPath, settings, out previous);
                tables.ForEach(t => t.AttachJournal(balancer._journal));
            }

            // From here to the listeners' start, no process forwards in a hand-over: plain loops, nothing to log.
            var used = new HashSet<System.Net.Sockets.Socket>();
            var restoredCounts = new int[settings.Listeners.Count];
            for (int index = 0; index < settings.Listeners.Count; index++)
            {
                ListenerSettings listenerSettings = settings.Listeners[index];
                string key = listenerSettings.Endpoint.ToString();
                var inherited = new List<System.Net.Sockets.Socket>();
                foreach ((HandedItem item, System.Net.Sockets.Socket socket) in handed)
                {
                    if (!item.IsFlow && item.Listener == key)
                    {
                        inherited.Add(socket);
                        used.Add(socket);
                    }
                }

                List<Upstream> restored = predecessor is null
                    ? balancer.Restore(previous, index, listenerSettings, tables[index])
                    : balancer.AdoptHanded(handed, key, listenerSettings, tables[index], used);
                restoredCounts[index] = restored.Count;
                balancer._listeners.Add(Listener.Start(listenerSettings, settings.Workers, tables[index], balancer._routing, settings.Proxy.MaxDatagramSize, batched, restored, inherited));
            }

            for (int index = 0; index < balancer._listeners.Count; index++)
            {
                Listener listener = balancer._listeners[index];
                BalancerLog.Listening(balancer._logger, listener.Endpoint.ToString(), Describe(listener.Settings.ReturnPath), listener.Workers.Count);
                if (previous.Count > 0)
                {
                    BalancerLog.FlowsRestored(balancer._logger, restoredCounts[index], previous.Count(r => r.Listener == index), listener.Endpoint.ToString());
                }
            }

            if (predecessor is not null)
            {
                double forwardingAfter = System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                predecessor.Ready();

                // Sockets of listeners no longer configured close here, with their flows.
                handed.Where(h => !used.Contains(h.Socket)).ToList().ForEach(h => h.Socket.Dispose());
                int handedFlows = restoredCounts.Sum();
                HandOverLog.TookOver(balancer._logger, predecessor.Predecessor, used.Count - handed.Count(h => h.Item.IsFlow && used.Contains(h.Socket)),
                    handedFlows, handed.Count(h => h.Item.IsFlow) - handedFlows, forwardingAfter);
                predecessor.Dispose();
                predecessor = null;
                if (settings.Proxy.FlowJournal is string handedJournal)
                {
                    // The predecessor has closed the journal; it holds the same flows, recorded again here.
                    balancer._journal = OpenJournal(handedJournal, settings, out _);
                    balancer._listeners.ForEach(l => l.Flows.AttachJournal(balancer._journal));
                }
            }

            balancer._health = new HealthChecker(() => balancer._routing.Current, balancer.OnHealthChanged, balancer._time);
            if (settings.Otlp is { } otlp)
            {
                balancer._otlp = OtlpExport.Start(otlp, MeterName);
                BalancerLog.OtlpExporting(balancer._logger, otlp.Endpoint.ToString(), otlp.Grpc ? "grpc" : "http/protobuf", otlp.Interval);
            }

            await balancer.StartAdminAsync(cancellation).ConfigureAwait(false);
            if (settings.Proxy.HandOverSocket is string servePath)
            {
                if (batched)
                {
                    balancer._handOverServer = HandOverServer.Start(servePath, balancer, balancer._logger);
                    HandOverLog.Serving(balancer._logger, servePath);
                }
                else
                {
                    HandOverLog.NoPredecessor(balancer._logger, servePath, "the portable data plane cannot hand its sockets over; only the Linux batched one can");
                }
            }

            return balancer;
        }
        catch
        {
            if (predecessor is not null)
            {
                // The running balancer resumes on these sockets: closing our copies must never
                // shut them down (see ReleaseForHandOver).
                KeepOpenElsewhere(handed);
                predecessor.Dispose();
            }

            handed.ForEach(h => h.Socket.Dispose());
            await balancer.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// Swaps in a new configuration atomically. Listen addresses, the admin address, the worker
    /// count and OTLP export need a restart (a warning says so); everything else applies at once.
    /// Backends that stay keep their health and counters; flows to removed backends close.
    /// Connections routed by connection ID to backends that stay are not disturbed.
    /// </summary>
    public void Reload(BalancerSettings next)
    {
        ArgumentNullException.ThrowIfNull(next);
        BalancerSettings current = Settings;
        if (!current.Listeners.SequenceEqual(next.Listeners))
        {
            BalancerLog.NeedsRestart(_logger, "Listen");
        }

        if (!Equals(current.Admin, next.Admin))
        {
            BalancerLog.NeedsRestart(_logger, "Admin");
        }

        if (current.Workers != next.Workers)
        {
            BalancerLog.NeedsRestart(_logger, "Workers");
        }

        if (!Equals(current.Otlp, next.Otlp))
        {
            BalancerLog.NeedsRestart(_logger, "Otlp");
        }

        BalancerSettings applied = next with { Listeners = current.Listeners, Admin = current.Admin, Workers = current.Workers, Otlp = current.Otlp };
        lock (_control)
        {
            var kept = new HashSet<IPEndPoint>(applied.Backends.Select(b => b.Address));
            foreach (Backend old in _routing.Current.Backends.Where(b => !kept.Contains(b.Address)))
            {
                old.Health.MarkRemoved();
                _backendState.Remove(old.Address);
            }

            _routing.Publish(BuildSnapshot(applied));
        }

        foreach (Listener listener in _listeners)
        {
            listener.Flows.Update(applied.Proxy);
        }

        BalancerLog.Reloaded(_logger, _routing.Current.Generation, applied.Backends.Count, applied.Configs.Count);
    }

    /// <summary>Logs a reload that failed validation; the running configuration stays.</summary>
    public void RejectReload(string problem) => BalancerLog.ReloadRejected(_logger, problem);

    /// <summary>The <c>/status</c> document.</summary>
    public BalancerStatus GetStatus()
    {
        RoutingSnapshot snapshot = _routing.Current;
        IReadOnlyDictionary<string, int> shares = snapshot.MaglevShares();
        long[] branches = SumBranches();
        long[] byConfig = Sum(c => c.RoutedByConfig);
        long[] unroutable = Sum(c => c.Unroutable);
        return new BalancerStatus(
            snapshot.Generation,
            StartedAt,
            snapshot.Settings.RouteBy == RouteBy.ConnectionId ? "connection-id" : "client-address",
            [.. _listeners.Select(l => new ListenerStatus(l.Endpoint.ToString(), Describe(l.Settings.ReturnPath), l.Workers.Count, l.Flows.Count, l.Workers.Sum(w => w.Received)))],
            [.. snapshot.Settings.Configs.Select(c => new ConfigStatus(c.ConfigId, c.Algorithm.ToString(), c.ServerIdLength, c.NonceLength, byConfig[c.ConfigId]))],
            [.. snapshot.Backends.Select(b => new BackendStatus(
                b.Name,
                b.Settings.Weight,
                b.Health.IsUp,
                b.Health.LastChange,
                b.Health.LastFailure,
                b.Settings.ServerIds.ToDictionary(p => p.Key.ToString(System.Globalization.CultureInfo.InvariantCulture), p => p.Value.ToString()),
                shares.GetValueOrDefault(b.Name),
                b.Counters.PacketsToBackend,
                b.Counters.BytesToBackend,
                b.Counters.PacketsFromBackend,
                b.Counters.BytesFromBackend))],
            Enum.GetValues<RouteBranch>().ToDictionary(BalancerMetrics.TagOf, b => branches[(int)b]),
            Enum.GetValues<UnroutableCause>().ToDictionary(BalancerMetrics.TagOf, c => unroutable[(int)c]),
            ProxyCounters.Events().Append(("flows_live", ProxyCounters.LiveFlows)).ToDictionary(e => e.Item1, e => e.Item2));
    }

    /// <summary>Stops forwarding, closes every flow and the admin endpoint.</summary>
    public async ValueTask DisposeAsync()
    {
        _handOverServer?.Dispose();
        await _sweeper.DisposeAsync().ConfigureAwait(false);
        if (_admin is not null)
        {
            await _admin.DisposeAsync().ConfigureAwait(false);
        }

        if (_health is not null)
        {
            await _health.DisposeAsync().ConfigureAwait(false);
        }

        long flows = ProxyCounters.LiveFlows;
        foreach (Listener listener in _listeners)
        {
            listener.Dispose();
        }

        _journal?.Dispose(); // its flows stay recorded: a balancer started next relays them again
        _otlp?.Dispose(); // sends the last figures
        _meter.Dispose();
        if (!_handedOver.Task.IsCompleted)
        {
            BalancerLog.Stopped(_logger, flows);
        }
    }

    /// <summary>
    /// The first half of a hand-over: stops every forwarding thread and the sweeper (sockets stay
    /// open, datagrams queue in the kernel) and lists every listening and upstream socket with
    /// the state of its flow.
    /// </summary>
    internal IReadOnlyList<(HandedItem Item, System.Net.Sockets.Socket Socket)> PauseForHandOver()
    {
        _sweeper.Change(Timeout.Infinite, Timeout.Infinite);
        List<ListenerWorker> workers = [.. _listeners.SelectMany(l => l.Workers)];
        workers.ForEach(w => w.Pause());
        workers.ForEach(w => w.WaitPaused());

        long now = Milliseconds();
        var items = new List<(HandedItem, System.Net.Sockets.Socket)>();
        _listeners.ForEach(l => ListHandedItems(l, now, items));
        return items;
    }

    /// <summary>Adds a listener's listening sockets and flows to a hand-over's <paramref name="items"/>.</summary>
    internal static void ListHandedItems(Listener listener, long now, List<(HandedItem Item, System.Net.Sockets.Socket Socket)> items)
    {
        string key = listener.Settings.Endpoint.ToString();
        items.AddRange(listener.Workers.Select(w => (new HandedItem(key), w.ListeningSocket)));
        Dictionary<Upstream, List<ConnectionIdKey>> connectionIds = listener.Flows.ConnectionIdsByFlow();
        foreach (Upstream flow in listener.Flows.Snapshot().Where(f => !f.IsClosed))
        {
            var item = new HandedItem(key)
            {
                Client = flow.ReturnPath.Address,
                Backend = flow.Backend.Address,
                Answered = flow.Answered,
                IdleMilliseconds = Math.Max(0, now - flow.LastActivity),
                ConnectionIds = connectionIds.GetValueOrDefault(flow) ?? [],
            };
            items.Add((item, flow.Socket));
        }
    }

    /// <summary>A hand-over failed before the successor forwarded: everything runs again as before.</summary>
    internal void ResumeAfterHandOver()
    {
        foreach (ListenerWorker worker in _listeners.SelectMany(l => l.Workers))
        {
            worker.Resume();
        }

        _sweeper.Change(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
    }

    /// <summary>
    /// The successor forwards on the sockets: this process lets go of the flow journal and the
    /// admin address, and of its copies of the sockets without ever shutting them down (they are
    /// the successor's now).
    /// </summary>
    internal void ReleaseForHandOver(IReadOnlyList<(HandedItem Item, System.Net.Sockets.Socket Socket)> items)
    {
        KeepOpenElsewhere(items);

        _listeners.ForEach(l => l.Flows.DetachJournal());
        _journal?.Dispose();
        _journal = null;

        // The successor binds the admin address next.
        if (_admin is not null)
        {
            _admin.DisposeAsync().AsTask().GetAwaiter().GetResult();
            _admin = null;
        }
    }

    /// <summary>
    /// Marks sockets that another process keeps using: .NET shuts down a socket it closes while a
    /// call still holds it, unless the descriptor lacks close-on-exec (then the socket is taken as
    /// shared with another process), and a shut-down socket is shut for every process.
    /// </summary>
    private static void KeepOpenElsewhere(IReadOnlyList<(HandedItem Item, System.Net.Sockets.Socket Socket)> items)
    {
        foreach ((_, System.Net.Sockets.Socket socket) in items)
        {
            if (!socket.SafeHandle.IsClosed)
            {
                LinuxNative.fcntl((int)socket.SafeHandle.DangerousGetHandle(), LinuxNative.FSetFd, 0);
            }
        }
    }

    /// <summary>The successor has everything: <see cref="HandedOver"/> completes.</summary>
    internal void CompleteHandOver(int successor) => _handedOver.TrySetResult(successor);

    private async Task StartAdminAsync(CancellationToken cancellation)
    {
        if (Settings.Admin is not null)
        {
            _admin = await AdminServer.StartAsync(Settings.Admin, GetStatus, () => MetricFamilies, cancellation).ConfigureAwait(false);
            BalancerLog.AdminListening(_logger, _admin.Endpoint.ToString());
        }
    }

    private static FlowJournal OpenJournal(string path, BalancerSettings settings, out IReadOnlyList<FlowJournal.JournalRecord> previous)
    {
        try
        {
            return FlowJournal.Open(path, settings.Listeners.Count * settings.Proxy.MaxFlows, out previous);
        }
        catch (Exception failure) when (failure is IOException or UnauthorizedAccessException)
        {
            throw new MallardConfigException($"{BalancerConfigLoader.SectionPath}:Proxy:FlowJournal", failure.Message + ".", failure);
        }
    }

    /// <summary>
    /// Takes in the flows of listener <paramref name="key"/> that a running balancer handed over
    /// with their upstream sockets. Flows to a backend no longer configured close.
    /// </summary>
    internal List<Upstream> AdoptHanded(List<(HandedItem Item, System.Net.Sockets.Socket Socket)> handed, string key, ListenerSettings listener, FlowTable flows, HashSet<System.Net.Sockets.Socket> used)
    {
        var adopted = new List<Upstream>();
        long now = Milliseconds();
        foreach ((HandedItem item, System.Net.Sockets.Socket socket) in handed)
        {
            if (!item.IsFlow || item.Listener != key)
            {
                continue;
            }

            used.Add(socket);
            Backend? backend = ConfiguredBackend(item.Backend!, item.Client!.Family, listener);
            if (backend is null)
            {
                socket.Dispose();
                continue;
            }

            Upstream upstream = Upstream.FromHandedSocket(socket, backend, ReturnPath.CopyOf(EndpointKey.From(item.Client), item.Client), flows.Counters,
                ReportPassiveFailure, Settings.Proxy, now - item.IdleMilliseconds, item.Answered);
            if (flows.AdoptHanded(upstream, item.ConnectionIds))
            {
                adopted.Add(upstream);
            }
        }

        return adopted;
    }

    internal long[] SumBranches() => Sum(c => c.Branches);

    /// <summary>Adds up one per-thread counter array over every forwarding thread.</summary>
    internal long[] Sum(Func<RoutingCounters, long[]> select)
    {
        long[] total = select(new RoutingCounters());
        foreach (ListenerWorker worker in _listeners.SelectMany(l => l.Workers))
        {
            long[] counts = select(worker.Router.Counters);
            for (int i = 0; i < counts.Length; i++)
            {
                total[i] += Volatile.Read(ref counts[i]);
            }
        }

        return total;
    }

    private static string Describe(ReturnPathMode mode) => mode == ReturnPathMode.PerConnection ? "per-connection" : "per-client-address";

    private RoutingSnapshot BuildSnapshot(BalancerSettings settings)
    {
        var backends = new List<Backend>(settings.Backends.Count);
        foreach (BackendSettings backend in settings.Backends)
        {
            if (!_backendState.TryGetValue(backend.Address, out var state))
            {
                state = (new BackendHealth(), new BackendCounters());
                _backendState.Add(backend.Address, state);
            }

            backends.Add(new Backend(backend, state.Health, state.Counters));
        }

        return new RoutingSnapshot(settings, backends, Interlocked.Increment(ref _generation));
    }

    private void OnHealthChanged(Backend backend, bool up, string reason)
    {
        if (up)
        {
            BalancerLog.BackendUp(_logger, backend.Name, reason);
        }
        else
        {
            BalancerLog.BackendDown(_logger, backend.Name, reason);
        }

        // Maglev is rebuilt over the usable backends: only the flows of the changed backend move.
        lock (_control)
        {
            _routing.Publish(BuildSnapshot(_routing.Current.Settings));
        }
    }

    private void ReportPassiveFailure(Backend backend, string reason) => _health?.ReportPassiveFailure(backend, reason);

    /// <summary>The data path's clock: milliseconds on the balancer's <see cref="TimeProvider"/> (tests drive it by hand).</summary>
    /// <summary>
    /// Opens again the flows of listener <paramref name="index"/> that the journal says a previous
    /// process relayed: same client address, same backend, the same upstream port when it is free.
    /// Flows to a backend no longer configured, or from a client of another address family than
    /// the listener, are left closed.
    /// </summary>
    private List<Upstream> Restore(IReadOnlyList<FlowJournal.JournalRecord> previous, int index, ListenerSettings listener, FlowTable flows)
    {
        var restored = new List<Upstream>();
        long now = Milliseconds();
        foreach (FlowJournal.JournalRecord record in previous)
        {
            Backend? backend = record.Listener == index ? ConfiguredBackend(record.Backend, record.Client.AddressFamily, listener) : null;
            if (backend is null)
            {
                continue;
            }

            SocketAddress client = record.Client.Serialize();
            Upstream upstream;
            try
            {
                upstream = Upstream.Open(backend, ReturnPath.CopyOf(EndpointKey.From(client), client), ProxyCounters, ReportPassiveFailure, Settings.Proxy, now, record.UpstreamPort);
            }
            catch (System.Net.Sockets.SocketException)
            {
                continue;
            }

            if (flows.Adopt(upstream))
            {
                restored.Add(upstream);
            }
        }

        return restored;
    }

    /// <summary>
    /// The configured backend at <paramref name="address"/> for a flow a previous process relayed
    /// (journal or hand-over), or null: backends no longer configured and clients of another
    /// address family than the listener's are not taken back.
    /// </summary>
    private Backend? ConfiguredBackend(IPEndPoint address, System.Net.Sockets.AddressFamily clientFamily, ListenerSettings listener) =>
        clientFamily == listener.Endpoint.AddressFamily ? _routing.Current.Backends.FirstOrDefault(b => b.Address.Equals(address)) : null;

    private long Milliseconds() => _time.GetTimestamp() / Math.Max(1, _time.TimestampFrequency / 1000);

    private void ReportRelayLimit(string problem)
    {
        long now = Milliseconds();
        long last = Interlocked.Read(ref _lastLimitLog);
        if (now - last >= LimitLogIntervalMilliseconds && Interlocked.CompareExchange(ref _lastLimitLog, now, last) == last)
        {
            BalancerLog.RelayLimit(_logger, problem);
        }
    }

    private void Sweep()
    {
        long now = Milliseconds();
        foreach (Listener listener in _listeners)
        {
            listener.Flows.Sweep(now);
        }
    }
}
