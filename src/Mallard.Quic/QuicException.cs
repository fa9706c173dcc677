namespace Mallard.Quic;

/// <summary>
/// A QUIC connection or stream failure, with the QUIC error code that explains it: the
/// application's code (CONNECTION_CLOSE 0x1d, RESET_STREAM, STOP_SENDING) or the transport's
/// (RFC 9000 section 20).
/// </summary>
public sealed class QuicException : IOException
{
    /// <summary>Creates the exception.</summary>
    public QuicException(QuicError error, long? applicationErrorCode, long? transportErrorCode, string message)
        : base(message)
    {
        QuicError = error;
        ApplicationErrorCode = applicationErrorCode;
        TransportErrorCode = transportErrorCode;
    }

    /// <summary>The kind of failure.</summary>
    public QuicError QuicError { get; }

    /// <summary>The application protocol's error code, when the peer closed or reset with one.</summary>
    public long? ApplicationErrorCode { get; }

    /// <summary>The transport error code (RFC 9000 section 20.1), when the failure is a transport one.</summary>
    public long? TransportErrorCode { get; }
}
