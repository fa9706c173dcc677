namespace Mallard.Http3.Qpack;

/// <summary>
/// A field section or a QPACK stream instruction that cannot be decoded; <see cref="ErrorCode"/>
/// is the connection error RFC 9204 section 6 names for it.
/// </summary>
internal sealed class QpackException(Http3ErrorCode errorCode, string message) : Exception(message)
{
    public Http3ErrorCode ErrorCode { get; } = errorCode;
}
