namespace Mallard.Quic.Connections;

/// <summary>
/// The connection-level control frames waiting for the next 1-RTT packet, in one record instead of
/// a flag per frame scattered over the connection. A lost frame is marked here again and goes out
/// with its current value (RFC 9000 section 13.3); the sender asks <see cref="Any"/> whether a
/// packet is worth building for them.
/// </summary>
internal sealed class PendingFrames
{
    /// <summary>Server: HANDSHAKE_DONE (RFC 9000 section 19.20), until acknowledged.</summary>
    public bool HandshakeDone { get; set; }

    /// <summary>A PING: keep-alive, a non-probing first packet after a move, or the companion of a path MTU probe.</summary>
    public bool Ping { get; set; }

    /// <summary>MAX_DATA with the current connection window.</summary>
    public bool MaxData { get; set; }

    /// <summary>MAX_STREAMS for bidirectional streams.</summary>
    public bool MaxStreamsBidirectional { get; set; }

    /// <summary>MAX_STREAMS for unidirectional streams.</summary>
    public bool MaxStreamsUnidirectional { get; set; }

    /// <summary>The PATH_CHALLENGE of the path being validated (RFC 9000 section 8.2).</summary>
    public bool PathChallenge { get; set; }

    /// <summary>Server: a NEW_TOKEN for the client's next connection (RFC 9000 section 8.1.3).</summary>
    public byte[]? NewToken { get; set; }

    /// <summary>PATH_RESPONSE data to echo, newest last; bounded by the receiver.</summary>
    public List<byte[]> PathResponses { get; } = [];

    /// <summary>Whether any of these frames waits.</summary>
    public bool Any => HandshakeDone || Ping || MaxData || MaxStreamsBidirectional || MaxStreamsUnidirectional || PathChallenge
        || NewToken is not null || PathResponses.Count > 0;
}
