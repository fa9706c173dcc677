using System.Net;

namespace Mallard.Balancer.Configuration;

/// <summary>One address the balancer receives client datagrams on.</summary>
/// <param name="Endpoint">The address and port; port 0 picks a free one.</param>
/// <param name="ReturnPath">How flows through this listener are relayed.</param>
public sealed record ListenerSettings(IPEndPoint Endpoint, ReturnPathMode ReturnPath);
