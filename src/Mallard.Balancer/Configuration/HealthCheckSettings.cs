namespace Mallard.Balancer.Configuration;

/// <summary>Active and passive backend health checking.</summary>
/// <param name="Enabled">Whether backends are probed; when off, every backend counts as up.</param>
/// <param name="Interval">Time between probes of one backend.</param>
/// <param name="Timeout">How long a probe waits for Version Negotiation.</param>
/// <param name="UnhealthyThreshold">Consecutive failures that mark a backend down.</param>
/// <param name="HealthyThreshold">Consecutive successes that mark a down backend up again.</param>
public sealed record HealthCheckSettings(bool Enabled, TimeSpan Interval, TimeSpan Timeout, int UnhealthyThreshold, int HealthyThreshold);
