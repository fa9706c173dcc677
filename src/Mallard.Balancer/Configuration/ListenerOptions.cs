namespace Mallard.Balancer.Configuration;

/// <summary>One entry of <c>Mallard:Balancer:Listen</c> written as an object rather than an address string.</summary>
public sealed class ListenerOptions
{
    /// <summary>IP address and port. Required.</summary>
    public string? Address { get; set; }

    /// <summary><c>per-client-address</c> or <c>per-connection</c>; default: the balancer-wide <c>ReturnPath</c>.</summary>
    public string? ReturnPath { get; set; }
}
