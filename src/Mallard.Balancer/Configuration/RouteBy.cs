namespace Mallard.Balancer.Configuration;

/// <summary>What the balancer routes by.</summary>
public enum RouteBy
{
    /// <summary><c>connection-id</c>: the server ID in the destination connection ID, then the draft's fallbacks.</summary>
    ConnectionId,

    /// <summary>
    /// <c>client-address</c>: the client's address and port only, as a plain UDP balancer does.
    /// For comparison: a connection whose client address changes may land on another server.
    /// </summary>
    ClientAddress,
}
