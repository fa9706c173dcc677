namespace Mallard.Balancer.Admin;

/// <summary>One QUIC-LB configuration in <see cref="BalancerStatus"/>.</summary>
public sealed record ConfigStatus(int Id, string Algorithm, int ServerIdLength, int NonceLength, long Routed);
