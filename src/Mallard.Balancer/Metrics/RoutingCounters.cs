using Mallard.Balancer.Routing;
using Mallard.QuicLb;

namespace Mallard.Balancer.Metrics;

/// <summary>
/// Per-thread routing counters: one forwarding thread writes, readers sum across threads. Plain
/// increments, no interlocked traffic on the packet path.
/// </summary>
internal sealed class RoutingCounters
{
    public long[] Branches { get; } = new long[Enum.GetValues<RouteBranch>().Length];

    /// <summary>Packets routed by connection ID, by config ID.</summary>
    public long[] RoutedByConfig { get; } = new long[QuicLbConfig.MaxConfigId + 1];

    /// <summary>Packets whose connection ID did not route them, by cause.</summary>
    public long[] Unroutable { get; } = new long[Enum.GetValues<UnroutableCause>().Length];
}
