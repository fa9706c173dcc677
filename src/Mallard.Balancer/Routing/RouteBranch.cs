namespace Mallard.Balancer.Routing;

/// <summary>Which branch of draft-21's forwarding rules decided a packet; each is counted.</summary>
public enum RouteBranch
{
    /// <summary>The destination connection ID decoded to a server ID that a usable backend owns.</summary>
    ConnectionId,

    /// <summary>A long header matched the (client address, source connection ID) table.</summary>
    SourceConnectionIdTable,

    /// <summary>A long header matched the destination connection ID table.</summary>
    DestinationConnectionIdTable,

    /// <summary>The client address (4-tuple) table.</summary>
    ClientAddressTable,

    /// <summary>Maglev on the client-chosen destination connection ID (Initial and 0-RTT).</summary>
    FallbackConnectionId,

    /// <summary>Maglev on the client address (other unroutable packets, unknown versions, Version Negotiation).</summary>
    FallbackClientAddress,

    /// <summary>Dropped: not a QUIC packet (empty, truncated header, connection ID over 20 octets, short header under 21 octets).</summary>
    Malformed,

    /// <summary>Dropped: an Initial in a datagram under 1200 octets, which a server must discard (RFC 9000 section 14.1).</summary>
    SmallInitial,

    /// <summary>Dropped: no backend is configured with a non-zero weight.</summary>
    NoBackend,
}
