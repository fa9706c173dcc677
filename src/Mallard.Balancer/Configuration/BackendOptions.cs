namespace Mallard.Balancer.Configuration;

/// <summary>One entry of <c>Mallard:Balancer:Backends</c> as written, before validation.</summary>
public sealed class BackendOptions
{
    /// <summary>IP address and port, for example <c>127.0.0.1:4434</c> or <c>[::1]:4434</c>. Required.</summary>
    public string? Address { get; set; }

    /// <summary>Relative share of new connections, 0 to 1000; default 1.</summary>
    public int? Weight { get; set; }

    /// <summary>Server ID (hex) under each config ID, for example <c>{ "0": "41414141" }</c>.</summary>
    public Dictionary<string, string>? ServerIds { get; set; }
}
