namespace Mallard.Balancer.Metrics;

/// <summary>Relay counters shared by the threads of one balancer (flow events are rare; these use interlocked adds).</summary>
public sealed class ProxyCounters
{
    private long _flowsRestored;
    private long _flowsTakenOver;
    private long _flowsOpened;
    private long _flowsClosed;
    private long _flowLimitReached;
    private long _upstreamSocketFailures;
    private long _returnPathMoved;
    private long _returnPathHeld;
    private long _returnPathRegained;
    private long _sourceFlowLimitReached;
    private long _flowsEvicted;
    private long _oversizedReplies;
    private long _clientSendErrors;
    private long _backendSendErrors;

    /// <summary>Upstream flows opened (each a local UDP port).</summary>
    public long FlowsOpened => Volatile.Read(ref _flowsOpened);

    /// <summary>Upstream flows closed (idle, backend removed, shutdown).</summary>
    public long FlowsClosed => Volatile.Read(ref _flowsClosed);

    /// <summary>Flows open now (opened here, restored or taken over, and not closed).</summary>
    public long LiveFlows => FlowsOpened + FlowsRestored + FlowsTakenOver - FlowsClosed;

    /// <summary>Packets dropped because the listener already had its maximum number of flows.</summary>
    public long FlowLimitReached => Volatile.Read(ref _flowLimitReached);

    /// <summary>Packets dropped because no upstream socket could be opened (ports or descriptors exhausted).</summary>
    public long UpstreamSocketFailures => Volatile.Read(ref _upstreamSocketFailures);

    /// <summary>Per-connection flows whose return path moved to a new client address.</summary>
    public long ReturnPathMoved => Volatile.Read(ref _returnPathMoved);

    /// <summary>Packets from a new client address relayed while the return path stayed (the old address was not yet silent).</summary>
    public long ReturnPathHeld => Volatile.Read(ref _returnPathHeld);

    /// <summary>Per-connection flows whose return path went back to a validated client address at once.</summary>
    public long ReturnPathRegained => Volatile.Read(ref _returnPathRegained);

    /// <summary>Packets dropped because their source address already had its maximum number of flows.</summary>
    public long SourceFlowLimitReached => Volatile.Read(ref _sourceFlowLimitReached);

    /// <summary>Flows the backend never answered, closed to make room for a new one when the table was full.</summary>
    public long FlowsEvicted => Volatile.Read(ref _flowsEvicted);

    /// <summary>Backend datagrams dropped for being larger than Proxy:MaxDatagramSize.</summary>
    public long OversizedReplies => Volatile.Read(ref _oversizedReplies);

    /// <summary>Replies that could not be sent to the client.</summary>
    public long ClientSendErrors => Volatile.Read(ref _clientSendErrors);

    /// <summary>Datagrams that could not be sent to a backend.</summary>
    public long BackendSendErrors => Volatile.Read(ref _backendSendErrors);

    /// <summary>Flows a previous process relayed, opened again from the flow journal at start-up.</summary>
    public long FlowsRestored => Volatile.Read(ref _flowsRestored);

    /// <summary>Flows a running balancer handed over with their sockets to this one as it started (zero-loss restart).</summary>
    public long FlowsTakenOver => Volatile.Read(ref _flowsTakenOver);

    /// <summary>Every relay event counter by its metric tag, the one list that /metrics and /status both report.</summary>
    public IEnumerable<(string Event, long Count)> Events() =>
    [
        ("flow_opened", FlowsOpened),
        ("flow_closed", FlowsClosed),
        ("flow_limit_reached", FlowLimitReached),
        ("upstream_socket_failure", UpstreamSocketFailures),
        ("return_path_moved", ReturnPathMoved),
        ("return_path_held", ReturnPathHeld),
        ("return_path_regained", ReturnPathRegained),
        ("source_flow_limit_reached", SourceFlowLimitReached),
        ("flow_evicted", FlowsEvicted),
        ("oversized_reply", OversizedReplies),
        ("client_send_error", ClientSendErrors),
        ("backend_send_error", BackendSendErrors),
        ("flow_restored", FlowsRestored),
        ("flow_taken_over", FlowsTakenOver),
    ];

    internal void CountFlowOpened() => Interlocked.Increment(ref _flowsOpened);

    internal void CountFlowRestored() => Interlocked.Increment(ref _flowsRestored);

    internal void CountFlowTakenOver() => Interlocked.Increment(ref _flowsTakenOver);

    internal void CountFlowClosed() => Interlocked.Increment(ref _flowsClosed);

    internal void CountFlowLimitReached() => Interlocked.Increment(ref _flowLimitReached);

    internal void CountUpstreamSocketFailure() => Interlocked.Increment(ref _upstreamSocketFailures);

    internal void CountReturnPathMoved() => Interlocked.Increment(ref _returnPathMoved);

    internal void CountReturnPathHeld() => Interlocked.Increment(ref _returnPathHeld);

    internal void CountReturnPathRegained() => Interlocked.Increment(ref _returnPathRegained);

    internal void CountSourceFlowLimitReached() => Interlocked.Increment(ref _sourceFlowLimitReached);

    internal void CountFlowEvicted() => Interlocked.Increment(ref _flowsEvicted);

    internal void CountOversizedReply() => Interlocked.Increment(ref _oversizedReplies);

    internal void CountClientSendError() => Interlocked.Increment(ref _clientSendErrors);

    internal void CountBackendSendError() => Interlocked.Increment(ref _backendSendErrors);
}
