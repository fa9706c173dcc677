namespace Mallard.Balancer.Admin;

/// <summary>One listener in <see cref="BalancerStatus"/>.</summary>
public sealed record ListenerStatus(string Address, string ReturnPath, int Workers, int Flows, long Received);
