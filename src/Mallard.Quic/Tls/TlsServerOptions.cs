using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Mallard.Quic.Tls;

/// <summary>What a TLS server presents and accepts.</summary>
internal sealed record TlsServerOptions
{
    /// <summary>The certificate with its private key (ECDSA P-256/P-384 or RSA).</summary>
    public required X509Certificate2 Certificate { get; init; }

    /// <summary>Picks the certificate by the client's SNI; null, or a null answer, means <see cref="Certificate"/>.</summary>
    public Func<string?, X509Certificate2?>? CertificateSelector { get; init; }

    /// <summary>ALPN protocols accepted; the first the client offers that is in this list is chosen.</summary>
    public required IReadOnlyList<string> ApplicationProtocols { get; init; }

    /// <summary>The encoded quic_transport_parameters to send.</summary>
    public required byte[] TransportParameters { get; init; }

    /// <summary>Groups accepted for key exchange; a client whose key share is for another group gets a HelloRetryRequest.</summary>
    public IReadOnlyList<ushort> Groups { get; init; } = [KeyExchange.X25519Group, KeyExchange.Secp256r1Group];

    /// <summary>Cipher suites accepted, in the server's preference order.</summary>
    public IReadOnlyList<ushort> CipherSuites { get; init; } = TlsHandshake.SupportedCipherSuites;

    /// <summary>Seals and opens session tickets; null: no tickets issued, none accepted.</summary>
    public SessionTicketSealer? SessionTickets { get; init; }

    /// <summary>How long an issued ticket holds, in seconds (at most seven days).</summary>
    public uint SessionTicketLifetimeSeconds { get; init; } = 24 * 3600;

    /// <summary>
    /// Null: no 0-RTT. Otherwise tickets allow early data and remember these limits (the server's
    /// flow-control and stream limits, RFC 9000 section 7.4.1); a ticket's early data is accepted
    /// only while every current limit is at least the remembered one.
    /// </summary>
    public ulong[]? EarlyDataLimits { get; init; }

    /// <summary>Records the ClientHellos whose early data was accepted, so that a replay is refused (RFC 8446 section 8); required with <see cref="EarlyDataLimits"/>.</summary>
    public EarlyDataReplayGuard? ReplayGuard { get; init; }

    /// <summary>Wall-clock time in Unix milliseconds: a ticket's age crosses processes and servers.</summary>
    public Func<long> NowMilliseconds { get; init; } = () => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    /// <summary>A self-signed ECDSA P-256 certificate for <paramref name="name"/>, for servers started without one.</summary>
    public static X509Certificate2 CreateSelfSignedCertificate(string name = "localhost")
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName(name);
        request.CertificateExtensions.Add(names.Build());
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(30));
    }
}
