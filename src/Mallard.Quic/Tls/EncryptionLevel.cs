namespace Mallard.Quic.Tls;

/// <summary>The QUIC encryption levels that carry TLS handshake data (RFC 9001 section 4.1.4).</summary>
internal enum EncryptionLevel
{
    /// <summary>Initial packets.</summary>
    Initial,

    /// <summary>Handshake packets.</summary>
    Handshake,

    /// <summary>1-RTT packets (post-handshake messages such as NewSessionTicket).</summary>
    OneRtt,
}
