namespace Mallard.Steering;

/// <summary>Why the XDP program let a packet pass or steered it: one per-CPU counter each (enum branch in mallard_steer.bpf.c).</summary>
internal enum SteeringBranch
{
    /// <summary>Not IPv4 or IPv6, or an IP header that does not fit.</summary>
    NotIp = 0,

    /// <summary>Not UDP to the service port (IP fragments and IPv6 extension headers included).</summary>
    NotService,

    /// <summary>A QUIC header cut short or impossible.</summary>
    Malformed,

    /// <summary>Initial, 0-RTT, Retry or Version Negotiation: the client chose the connection ID, and the 4-tuple tier's choice of server stands.</summary>
    Initial,

    /// <summary>Config rotation 0b111 (draft-21 §3).</summary>
    Unroutable,

    /// <summary>A config rotation codepoint that is not configured.</summary>
    UnknownConfig,

    /// <summary>This server's ID, or steering disabled.</summary>
    Own,

    /// <summary>A server ID that no server has.</summary>
    UnknownServer,

    /// <summary>Another server's ID: sent to it.</summary>
    Steered,

    /// <summary>An encrypted connection ID that user space decoded before: sent to its server.</summary>
    SteeredLearned,

    /// <summary>An encrypted connection ID not decoded yet: passed, and a copy queued for user space to decode and learn.</summary>
    NotLearned,

    /// <summary>Arrived from another server, steered there already: never steered again.</summary>
    FromPeer,

    /// <summary>An encrypted connection ID not decoded yet, and user space's queue was full: passed uncopied.</summary>
    LearnQueueFull,

    /// <summary>The owner is on another segment and no route or neighbour leads to its underlay address (or no encapsulation is set): passed.</summary>
    NoRoute,

    /// <summary>The owner is on another segment and the frame wrapped in VXLAN would exceed the underlay's MTU: passed.</summary>
    TooBig,
}
