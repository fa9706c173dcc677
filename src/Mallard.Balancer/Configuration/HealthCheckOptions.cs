namespace Mallard.Balancer.Configuration;

/// <summary><c>Mallard:Balancer:Health</c> as written, before validation.</summary>
public sealed class HealthCheckOptions
{
    /// <summary>Whether backends are probed; default true.</summary>
    public bool? Enabled { get; set; }

    /// <summary>Time between probes; default 2 s.</summary>
    public TimeSpan? Interval { get; set; }

    /// <summary>Wait for an answer; default 1 s.</summary>
    public TimeSpan? Timeout { get; set; }

    /// <summary>Consecutive failures before a backend is down; default 3.</summary>
    public int? UnhealthyThreshold { get; set; }

    /// <summary>Consecutive successes before a down backend is up; default 2.</summary>
    public int? HealthyThreshold { get; set; }
}
