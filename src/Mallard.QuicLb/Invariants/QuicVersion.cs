namespace Mallard.QuicLb.Invariants;

/// <summary>Well-known QUIC version numbers.</summary>
public static class QuicVersion
{
    /// <summary>The value that marks a Version Negotiation packet (RFC 8999 section 6).</summary>
    public const uint Negotiation = 0;

    /// <summary>QUIC version 1 (RFC 9000).</summary>
    public const uint V1 = 0x00000001;

    /// <summary>QUIC version 2 (RFC 9369).</summary>
    public const uint V2 = 0x6b3343cf;

    /// <summary>
    /// Whether <paramref name="version"/> is reserved to exercise version negotiation: the
    /// pattern 0x?a?a?a?a (RFC 9000 section 15). Every server must answer it with Version Negotiation.
    /// </summary>
    public static bool IsReservedForNegotiation(uint version) => (version & 0x0f0f0f0f) == 0x0a0a0a0a;
}
