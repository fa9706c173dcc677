namespace Mallard.Quic;

/// <summary>What went wrong, as <see cref="QuicException.QuicError"/> reports it (named as in System.Net.Quic).</summary>
public enum QuicError
{
    /// <summary>Anything not listed below; <see cref="QuicException.TransportErrorCode"/> has the detail.</summary>
    InternalError,

    /// <summary>The peer closed the connection with an application error code.</summary>
    ConnectionAborted,

    /// <summary>The peer reset the stream or asked this side to stop sending.</summary>
    StreamAborted,

    /// <summary>The connection ended without traffic for the idle timeout.</summary>
    ConnectionIdle,

    /// <summary>No answer from the server within the handshake timeout.</summary>
    ConnectionTimeout,

    /// <summary>The server refused the connection, or the client and server share no QUIC version.</summary>
    ConnectionRefused,

    /// <summary>The server shares no QUIC version with this client (RFC 9000 section 6).</summary>
    VersionNegotiationError,

    /// <summary>The peer violated the protocol, or this side found a violation (a transport error code).</summary>
    TransportError,

    /// <summary>The operation was done on a connection or stream already closed locally.</summary>
    OperationAborted,

    /// <summary>A datagram was sent but the peer does not accept DATAGRAM frames (RFC 9221 section 3).</summary>
    DatagramsNotNegotiated,

    /// <summary>A datagram was larger than <see cref="QuicConnection.MaxDatagramSize"/>.</summary>
    DatagramTooLarge,

    /// <summary>The datagram send queue was full.</summary>
    DatagramQueueFull,
}
