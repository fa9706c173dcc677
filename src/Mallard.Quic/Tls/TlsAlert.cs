namespace Mallard.Quic.Tls;

/// <summary>TLS alerts the handshake raises (RFC 8446 section 6); QUIC sends them as CRYPTO_ERROR 0x100 + alert (RFC 9001 section 4.8).</summary>
internal enum TlsAlert : byte
{
    /// <summary>unexpected_message.</summary>
    UnexpectedMessage = 10,

    /// <summary>handshake_failure.</summary>
    HandshakeFailure = 40,

    /// <summary>bad_certificate.</summary>
    BadCertificate = 42,

    /// <summary>illegal_parameter.</summary>
    IllegalParameter = 47,

    /// <summary>decode_error.</summary>
    DecodeError = 50,

    /// <summary>decrypt_error.</summary>
    DecryptError = 51,

    /// <summary>protocol_version.</summary>
    ProtocolVersion = 70,

    /// <summary>internal_error.</summary>
    InternalError = 80,

    /// <summary>missing_extension.</summary>
    MissingExtension = 109,

    /// <summary>unsupported_extension.</summary>
    UnsupportedExtension = 110,

    /// <summary>unrecognized_name.</summary>
    UnrecognizedName = 112,

    /// <summary>no_application_protocol (CRYPTO_ERROR 0x178).</summary>
    NoApplicationProtocol = 120,
}
