namespace Mallard.Http3;

/// <summary>HTTP/3 and QPACK error codes (RFC 9114 section 8.1, RFC 9204 section 6).</summary>
public enum Http3ErrorCode : long
{
    /// <summary>No error: a connection or stream closed without a problem.</summary>
    NoError = 0x100,

    /// <summary>A protocol violation no more specific code covers.</summary>
    GeneralProtocolError = 0x101,

    /// <summary>An internal error in the HTTP stack.</summary>
    InternalError = 0x102,

    /// <summary>A stream of a type the endpoint does not accept.</summary>
    StreamCreationError = 0x103,

    /// <summary>A stream the connection needs (control, QPACK) was closed or reset.</summary>
    ClosedCriticalStream = 0x104,

    /// <summary>A frame not allowed in this state or on this stream.</summary>
    FrameUnexpected = 0x105,

    /// <summary>A frame that does not meet its layout or is too large.</summary>
    FrameError = 0x106,

    /// <summary>The peer generates excessive load.</summary>
    ExcessiveLoad = 0x107,

    /// <summary>A stream or push ID used wrongly.</summary>
    IdError = 0x108,

    /// <summary>A SETTINGS frame with an error in its payload.</summary>
    SettingsError = 0x109,

    /// <summary>The control stream did not begin with SETTINGS.</summary>
    MissingSettings = 0x10a,

    /// <summary>A request refused before any processing.</summary>
    RequestRejected = 0x10b,

    /// <summary>A request or its response cancelled.</summary>
    RequestCancelled = 0x10c,

    /// <summary>The stream ended before the request or response was complete.</summary>
    RequestIncomplete = 0x10d,

    /// <summary>A malformed HTTP message.</summary>
    MessageError = 0x10e,

    /// <summary>A CONNECT tunnel was reset or closed abnormally.</summary>
    ConnectError = 0x10f,

    /// <summary>The request should be retried over HTTP/1.1.</summary>
    VersionFallback = 0x110,

    /// <summary>A field section that cannot be decoded (QPACK).</summary>
    QpackDecompressionFailed = 0x200,

    /// <summary>An instruction on the QPACK encoder stream that cannot be applied.</summary>
    QpackEncoderStreamError = 0x201,

    /// <summary>An instruction on the QPACK decoder stream that cannot be applied.</summary>
    QpackDecoderStreamError = 0x202,
}
