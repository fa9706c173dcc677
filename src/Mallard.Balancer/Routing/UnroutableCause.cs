namespace Mallard.Balancer.Routing;

/// <summary>Why a packet's destination connection ID did not route it, counted for every packet that fell back.</summary>
public enum UnroutableCause
{
    /// <summary>Config ID 7: the server's connection ID is deliberately unroutable (draft-21 section 3.1).</summary>
    UnroutableConfigId,

    /// <summary>The config ID names no live configuration (for example a client-chosen Initial DCID).</summary>
    UnknownConfigId,

    /// <summary>The connection ID is shorter than its configuration's length.</summary>
    TooShort,

    /// <summary>The server ID belongs to no configured backend.</summary>
    UnknownServerId,

    /// <summary>The owning backend is down or was removed.</summary>
    BackendDown,
}
