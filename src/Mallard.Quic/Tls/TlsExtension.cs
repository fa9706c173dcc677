namespace Mallard.Quic.Tls;

/// <summary>One extension of a hello or EncryptedExtensions message: its type and raw body.</summary>
/// <param name="Type">The extension type (RFC 8446 section 4.2; 0x39 is quic_transport_parameters, RFC 9001 section 8.2).</param>
/// <param name="Data">The extension body.</param>
internal sealed record TlsExtension(ushort Type, byte[] Data)
{
    /// <summary>server_name (RFC 6066).</summary>
    public const ushort ServerName = 0;

    /// <summary>supported_groups.</summary>
    public const ushort SupportedGroups = 10;

    /// <summary>signature_algorithms.</summary>
    public const ushort SignatureAlgorithms = 13;

    /// <summary>application_layer_protocol_negotiation (RFC 7301).</summary>
    public const ushort Alpn = 16;

    /// <summary>pre_shared_key (RFC 8446 section 4.2.11).</summary>
    public const ushort PreSharedKey = 41;

    /// <summary>early_data (RFC 8446 section 4.2.10): 0-RTT offered, accepted, or allowed by a ticket.</summary>
    public const ushort EarlyData = 42;

    /// <summary>supported_versions.</summary>
    public const ushort SupportedVersions = 43;

    /// <summary>psk_key_exchange_modes.</summary>
    public const ushort PskKeyExchangeModes = 45;

    /// <summary>psk_dhe_ke: resumption with a fresh (EC)DHE exchange, the only PSK mode Mallard offers or accepts (forward secrecy kept).</summary>
    public const byte PskDheKe = 1;

    /// <summary>key_share.</summary>
    public const ushort KeyShare = 51;

    /// <summary>quic_transport_parameters (RFC 9001 section 8.2).</summary>
    public const ushort QuicTransportParameters = 0x39;
}
