namespace Mallard.QuicLb.Invariants;

/// <summary>The packet type, where the version is one this reader understands.</summary>
public enum QuicPacketType
{
    /// <summary>A long header of a version this reader does not know: only the invariant fields are meaningful.</summary>
    Unknown,

    /// <summary>Initial (RFC 9000 section 17.2.2).</summary>
    Initial,

    /// <summary>0-RTT (RFC 9000 section 17.2.3).</summary>
    ZeroRtt,

    /// <summary>Handshake (RFC 9000 section 17.2.4).</summary>
    Handshake,

    /// <summary>Retry (RFC 9000 section 17.2.5).</summary>
    Retry,

    /// <summary>Version Negotiation: a long header with version 0 (RFC 8999 section 6).</summary>
    VersionNegotiation,

    /// <summary>A short header packet (1-RTT in QUIC v1 and v2).</summary>
    OneRtt,
}
