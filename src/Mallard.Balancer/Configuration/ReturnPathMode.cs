namespace Mallard.Balancer.Configuration;

/// <summary>How a listener relays a flow and where the backend's replies go.</summary>
public enum ReturnPathMode
{
    /// <summary>
    /// <c>per-client-address</c>: each client address gets its own upstream port. When a client's
    /// address changes, the backend sees a new path and must validate it (RFC 9000 section 9).
    /// </summary>
    PerClientAddress,

    /// <summary>
    /// <c>per-connection</c>: the upstream port follows the routable connection ID, so the
    /// backend never sees the client move; the balancer decides when the return path moves.
    /// </summary>
    PerConnection,
}
