using System.Security.Cryptography.X509Certificates;

namespace Mallard.Quic.Tls;

/// <summary>What a TLS client offers and how it checks the server.</summary>
internal sealed record TlsClientOptions
{
    /// <summary>The server name for SNI and certificate name checks; an IP address literal is checked against IP SANs and sent in no SNI.</summary>
    public string? ServerName { get; init; }

    /// <summary>ALPN protocols offered, in preference order (QUIC requires at least one).</summary>
    public required IReadOnlyList<string> ApplicationProtocols { get; init; }

    /// <summary>The encoded quic_transport_parameters to send.</summary>
    public required byte[] TransportParameters { get; init; }

    /// <summary>Groups offered in supported_groups; a key share is sent for the first.</summary>
    public IReadOnlyList<ushort> Groups { get; init; } = [KeyExchange.X25519Group, KeyExchange.Secp256r1Group];

    /// <summary>Cipher suites offered, in preference order.</summary>
    public IReadOnlyList<ushort> CipherSuites { get; init; } = TlsHandshake.SupportedCipherSuites;

    /// <summary>A ticket from an earlier connection to offer for resumption, or null.</summary>
    public SessionTicket? SessionTicket { get; init; }

    /// <summary>Offer 0-RTT early data when the ticket allows it (RFC 8446 section 4.2.10).</summary>
    public bool OfferEarlyData { get; init; }

    /// <summary>Wall-clock time in Unix milliseconds, for ticket ages.</summary>
    public Func<long> NowMilliseconds { get; init; } = () => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    /// <summary>Skip certificate chain and name validation (tests, the CLI's -k).</summary>
    public bool SkipCertificateValidation { get; init; }

    /// <summary>The chain policy of the default validation (trust store, revocation); null trusts the system store and checks no revocation.</summary>
    public X509ChainPolicy? ChainPolicy { get; init; }

    /// <summary>A custom check of the server's chain (end entity first); when set it replaces the default X509Chain validation.</summary>
    public Func<X509Certificate2, IReadOnlyList<X509Certificate2>, bool>? ValidateCertificate { get; init; }
}
