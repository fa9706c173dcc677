using System.Net;
using Mallard.QuicLb;

namespace Mallard.Balancer.Configuration;

/// <summary>A validated balancer configuration, as <see cref="BalancerConfigLoader"/> builds it.</summary>
public sealed record BalancerSettings(
    IReadOnlyList<ListenerSettings> Listeners,
    IPEndPoint? Admin,
    IReadOnlyList<QuicLbConfig> Configs,
    IReadOnlyList<BackendSettings> Backends,
    RouteBy RouteBy,
    FallbackSettings Fallback,
    ProxySettings Proxy,
    HealthCheckSettings Health,
    int Workers)
{
    /// <summary>OTLP export of the balancer's meter, or null (the default) for none.</summary>
    public OtlpSettings? Otlp { get; init; }
}
