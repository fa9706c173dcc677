namespace Mallard.Balancer.Configuration;

/// <summary><c>Mallard:Balancer:Proxy</c> as written, before validation.</summary>
public sealed class ProxyOptions
{
    /// <summary>Most upstream flows per listener; default 16,384.</summary>
    public int? MaxFlows { get; set; }

    /// <summary>Most flows per client IP address (all its ports) per listener, 1 to MaxFlows; default 1,024.</summary>
    public int? MaxFlowsPerSourceAddress { get; set; }

    /// <summary>Idle timeout of a flow; default 30 s.</summary>
    public TimeSpan? FlowIdleTimeout { get; set; }

    /// <summary>Per-connection mode: silence required of the current client address before the return path moves; default 250 ms.</summary>
    public TimeSpan? ReturnPathHoldTime { get; set; }

    /// <summary>Largest datagram relayed, 1200 to 65,527; default 4,096.</summary>
    public int? MaxDatagramSize { get; set; }

    /// <summary>Upstream port range such as <c>16384-32767</c> (the default), or <c>ephemeral</c> for kernel-chosen ports.</summary>
    public string? UpstreamPorts { get; set; }

    /// <summary>A file in which the flows are kept, so that a balancer started after a crash relays them again; none by default.</summary>
    public string? FlowJournal { get; set; }

    /// <summary>A Unix socket through which a new balancer process takes over this one's sockets and flows without losing a packet; none by default.</summary>
    public string? HandOverSocket { get; set; }
}
