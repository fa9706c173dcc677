namespace Mallard.Balancer.Configuration;

/// <summary>Limits of the relay between clients and backends.</summary>
/// <param name="MaxFlows">The most upstream flows (each one a local UDP port) per listener.</param>
/// <param name="MaxFlowsPerSourceAddress">The most flows one client IP address (any port) may hold per listener.</param>
/// <param name="FlowIdleTimeout">A flow with no datagram in either direction for this long is closed.</param>
/// <param name="ReturnPathHoldTime">
/// In per-connection mode, how long the current client address must have been silent before a
/// packet from another address moves the return path there, and how long a new address must carry
/// the connection alone before it is trusted with more than three times what it sent.
/// </param>
/// <param name="MaxDatagramSize">The largest datagram relayed; larger replies are dropped and counted.</param>
/// <param name="UpstreamPorts">
/// The local port range of upstream sockets, or null for ports the kernel picks. Within a range,
/// each flow's port is derived from the client address and backend, so a restarted balancer
/// relays an existing connection from the same port and the backend sees no change of address.
/// </param>
public sealed record ProxySettings(int MaxFlows, int MaxFlowsPerSourceAddress, TimeSpan FlowIdleTimeout, TimeSpan ReturnPathHoldTime, int MaxDatagramSize, PortRange? UpstreamPorts)
{
    /// <summary>
    /// The file that keeps the flows (<see cref="Forwarding.FlowJournal"/>), or null for none. A
    /// balancer started after a crash or a restart opens the flows it names again at once, so a
    /// backend's replies to a client that is silent (a download) are relayed without waiting for
    /// the client to speak.
    /// </summary>
    public string? FlowJournal { get; init; }

    /// <summary>
    /// The Unix socket of zero-loss restarts (<see cref="HandOver.HandOverServer"/>), or null for
    /// none. A balancer started with the same path takes over the running one's listening and
    /// upstream sockets and its flows; the running one stops.
    /// </summary>
    public string? HandOverSocket { get; init; }
}
