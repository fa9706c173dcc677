namespace Mallard.Quic.Connections;

/// <summary>How a connection ended (RFC 9000 section 10), so the API can name it without reading reason phrases.</summary>
internal enum ConnectionEndCause
{
    /// <summary>CONNECTION_CLOSE, sent or received.</summary>
    Close,

    /// <summary>No packets for the idle timeout (section 10.1).</summary>
    IdleTimeout,

    /// <summary>The peer's stateless reset (section 10.3).</summary>
    StatelessReset,

    /// <summary>The server offered no version this client speaks (section 6.2).</summary>
    VersionNegotiation,

    /// <summary>Client: the handshake did not complete in time after the connection was handed out early for 0-RTT.</summary>
    HandshakeTimeout,
}
