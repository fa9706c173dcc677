namespace Mallard.Balancer.Metrics;

/// <summary>
/// One named metric and how to read its current values, shared by the System.Diagnostics.Metrics
/// instruments and the Prometheus endpoint so that both always report the same numbers.
/// </summary>
/// <param name="Name">Dotted OpenTelemetry-style name, for example <c>mallard.lb.packets</c>.</param>
/// <param name="Unit">UCUM unit in braces or bytes.</param>
/// <param name="Help">One line for humans.</param>
/// <param name="IsCounter">Monotonic counter (true) or gauge (false).</param>
/// <param name="Read">The current values with their tags.</param>
internal sealed record MetricFamily(
    string Name,
    string Unit,
    string Help,
    bool IsCounter,
    Func<IEnumerable<(KeyValuePair<string, object?>[] Tags, long Value)>> Read);
