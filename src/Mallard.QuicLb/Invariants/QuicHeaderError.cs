namespace Mallard.QuicLb.Invariants;

/// <summary>Why <see cref="QuicHeaderReader"/> could not read a header; <see cref="None"/> on success.</summary>
public enum QuicHeaderError : byte
{
    /// <summary>The header was read.</summary>
    None = 0,

    /// <summary>The datagram is empty.</summary>
    Empty,

    /// <summary>A long header ends inside the version field.</summary>
    TruncatedVersion,

    /// <summary>A long header ends before a connection ID length octet.</summary>
    TruncatedConnectionIdLength,

    /// <summary>A long header ends inside a connection ID.</summary>
    TruncatedConnectionId,

    /// <summary>A QUIC v1 or v2 long header has a connection ID over 20 octets (RFC 9000 section 17.2).</summary>
    ConnectionIdTooLong,

    /// <summary>A short header is shorter than the connection ID length the caller expects.</summary>
    TruncatedShortHeader,

    /// <summary>A Version Negotiation packet whose version list is not a whole number of 32-bit versions.</summary>
    MalformedVersionList,
}
