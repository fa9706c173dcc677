namespace Mallard.Quic.Transport;

/// <summary>QUIC transport error codes (RFC 9000 section 20.1).</summary>
public enum TransportErrorCode : ulong
{
    /// <summary>The connection is closing without error.</summary>
    NoError = 0x00,

    /// <summary>An implementation error.</summary>
    InternalError = 0x01,

    /// <summary>The server refused the connection.</summary>
    ConnectionRefused = 0x02,

    /// <summary>More data than the advertised flow-control limits.</summary>
    FlowControlError = 0x03,

    /// <summary>A stream beyond the advertised stream limit.</summary>
    StreamLimitError = 0x04,

    /// <summary>A frame for a stream in a state that does not allow it.</summary>
    StreamStateError = 0x05,

    /// <summary>A final size that changed or was exceeded.</summary>
    FinalSizeError = 0x06,

    /// <summary>A badly formatted frame.</summary>
    FrameEncodingError = 0x07,

    /// <summary>Transport parameters that are malformed, invalid or not allowed for the sender's role.</summary>
    TransportParameterError = 0x08,

    /// <summary>More connection IDs than the advertised limit.</summary>
    ConnectionIdLimitError = 0x09,

    /// <summary>Any other protocol violation.</summary>
    ProtocolViolation = 0x0a,

    /// <summary>An invalid Retry or NEW_TOKEN token.</summary>
    InvalidToken = 0x0b,

    /// <summary>The application or application protocol caused the close.</summary>
    ApplicationError = 0x0c,

    /// <summary>More data in CRYPTO frames than can be buffered.</summary>
    CryptoBufferExceeded = 0x0d,

    /// <summary>An error in a key update.</summary>
    KeyUpdateError = 0x0e,

    /// <summary>The AEAD confidentiality or integrity limit was reached.</summary>
    AeadLimitReached = 0x0f,

    /// <summary>No viable network path.</summary>
    NoViablePath = 0x10,

    /// <summary>A TLS alert; the low octet is the alert (0x0100 to 0x01ff).</summary>
    CryptoError = 0x0100,
}
