namespace Mallard.Balancer.Admin;

/// <summary>The <c>/status</c> document: what the balancer is doing now.</summary>
public sealed record BalancerStatus(
    long Generation,
    DateTimeOffset StartedAt,
    string RouteBy,
    IReadOnlyList<ListenerStatus> Listeners,
    IReadOnlyList<ConfigStatus> Configs,
    IReadOnlyList<BackendStatus> Backends,
    IReadOnlyDictionary<string, long> Packets,
    IReadOnlyDictionary<string, long> Unroutable,
    IReadOnlyDictionary<string, long> Relay);
