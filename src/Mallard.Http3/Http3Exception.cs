namespace Mallard.Http3;

/// <summary>
/// An HTTP/3 request or connection that failed with an HTTP/3 error: the peer broke the protocol
/// (the connection is then closed with <see cref="ErrorCode"/>), reset the request stream with it,
/// or closed the connection with it.
/// </summary>
public sealed class Http3Exception : Exception
{
    /// <summary>Creates an exception for <paramref name="errorCode"/>.</summary>
    public Http3Exception(Http3ErrorCode errorCode, string message, Exception? innerException = null)
        : base(message, innerException) => ErrorCode = errorCode;

    /// <summary>The HTTP/3 error code (RFC 9114 section 8.1); a code outside the enum's names is the peer's own.</summary>
    public Http3ErrorCode ErrorCode { get; }
}
