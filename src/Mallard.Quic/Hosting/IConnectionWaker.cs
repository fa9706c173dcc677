namespace Mallard.Quic.Hosting;

/// <summary>
/// What the host wakes after a cycle in which something happened to a connection: the async API
/// (<see cref="QuicConnection"/>) implements it, so the host knows nothing of the API above it.
/// </summary>
internal interface IConnectionWaker
{
    /// <summary>Called under the host's lock: wake the connection's waiters, report what finished.</summary>
    void OnHostCycleLocked();
}
