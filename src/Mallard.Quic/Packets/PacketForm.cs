namespace Mallard.Quic.Packets;

/// <summary>The kind of a QUIC v1/v2 packet, independent of the version's type bits.</summary>
public enum PacketForm
{
    /// <summary>Initial (RFC 9000 section 17.2.2).</summary>
    Initial,

    /// <summary>0-RTT (section 17.2.3).</summary>
    ZeroRtt,

    /// <summary>Handshake (section 17.2.4).</summary>
    Handshake,

    /// <summary>Retry (section 17.2.5).</summary>
    Retry,

    /// <summary>Version Negotiation (section 17.2.1).</summary>
    VersionNegotiation,

    /// <summary>1-RTT, short header (section 17.3).</summary>
    OneRtt,
}
