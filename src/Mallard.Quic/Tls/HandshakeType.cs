namespace Mallard.Quic.Tls;

/// <summary>TLS 1.3 handshake message types (RFC 8446 section 4) that QUIC carries in CRYPTO frames.</summary>
internal enum HandshakeType : byte
{
    /// <summary>ClientHello.</summary>
    ClientHello = 1,

    /// <summary>ServerHello (and HelloRetryRequest).</summary>
    ServerHello = 2,

    /// <summary>NewSessionTicket.</summary>
    NewSessionTicket = 4,

    /// <summary>EncryptedExtensions.</summary>
    EncryptedExtensions = 8,

    /// <summary>Certificate.</summary>
    Certificate = 11,

    /// <summary>CertificateRequest.</summary>
    CertificateRequest = 13,

    /// <summary>CertificateVerify.</summary>
    CertificateVerify = 15,

    /// <summary>Finished.</summary>
    Finished = 20,

    /// <summary>KeyUpdate (forbidden in QUIC, RFC 9001 section 6).</summary>
    KeyUpdate = 24,
}
