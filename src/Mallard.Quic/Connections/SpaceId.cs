namespace Mallard.Quic.Connections;

/// <summary>
/// The three packet number spaces (RFC 9000 section 12.3), in the order their packets are
/// coalesced into a datagram (section 12.2).
/// </summary>
internal enum SpaceId
{
    /// <summary>Initial packets: the first CRYPTO data, under keys derived from the client's first destination connection ID.</summary>
    Initial,

    /// <summary>Handshake packets: the rest of the TLS handshake.</summary>
    Handshake,

    /// <summary>0-RTT and 1-RTT packets: application data.</summary>
    Application,
}
