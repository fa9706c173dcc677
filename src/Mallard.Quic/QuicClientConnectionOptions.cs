using System.Net;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace Mallard.Quic;

/// <summary>How a client connects (the counterpart of System.Net.Quic's options of the same name).</summary>
public sealed class QuicClientConnectionOptions : QuicConnectionOptions
{
    /// <summary>The server: an <see cref="IPEndPoint"/> or a <see cref="DnsEndPoint"/>.</summary>
    public required EndPoint RemoteEndPoint { get; set; }

    /// <summary>ALPN protocols offered, in preference order; QUIC requires at least one (RFC 9001 section 8.1).</summary>
    public required IReadOnlyList<string> ApplicationProtocols { get; set; }

    /// <summary>
    /// The name sent in SNI and checked against the certificate's DNS SANs; defaults to the DNS
    /// host name of <see cref="RemoteEndPoint"/>, or to its address, which is then checked against
    /// the certificate's IP SANs (RFC 9110 section 4.3.4).
    /// </summary>
    public string? ServerName { get; set; }

    /// <summary>Accept any server certificate. For tests and the CLI's <c>-k</c> only.</summary>
    public bool SkipCertificateValidation { get; set; }

    /// <summary>
    /// The chain policy of the default validation, as in SslClientAuthenticationOptions: a custom
    /// trust store (<see cref="X509ChainPolicy.CustomTrustStore"/> with
    /// <see cref="X509ChainTrustMode.CustomRootTrust"/>) or online revocation checks. When null the
    /// system's trusted roots apply and revocation is not checked. Server authentication
    /// (id-kp-serverAuth) is always required of certificates that restrict their use.
    /// </summary>
    public X509ChainPolicy? CertificateChainPolicy { get; set; }

    /// <summary>A custom check of the server's chain (end entity first), replacing X509Chain validation.</summary>
    public Func<X509Certificate2, IReadOnlyList<X509Certificate2>, bool>? ValidateCertificate { get; set; }

    /// <summary>The TLS 1.3 cipher suites offered; null offers AES-128-GCM, AES-256-GCM and ChaCha20-Poly1305.</summary>
    public IReadOnlyList<TlsCipherSuite>? CipherSuites { get; set; }

    /// <summary>
    /// A ticket from an earlier connection to the same server (<see cref="QuicConnection.SessionTicket"/>)
    /// to resume the session with; an expired one, or one the server no longer accepts, means a
    /// full handshake. <see cref="QuicConnection.IsResumed"/> tells which happened.
    /// </summary>
    public QuicSessionTicket? SessionTicket { get; set; }

    /// <summary>
    /// Send 0-RTT early data (RFC 9001 section 4.6) when <see cref="SessionTicket"/> allows it:
    /// <see cref="QuicConnection.ConnectAsync"/> then returns as soon as the first flight is out, and
    /// the streams and datagrams used before the handshake completes travel in 0-RTT packets,
    /// a round trip sooner. An attacker who captured them can replay them to the server: send
    /// early only requests that are safe to repeat. If the server refuses the early data, stream
    /// data is sent again after the handshake and datagrams are reported lost;
    /// <see cref="QuicConnection.EarlyDataAccepted"/> tells which happened. Without a ticket that
    /// allows it, connecting waits for the handshake as usual.
    /// </summary>
    public bool EarlyData { get; set; }

    /// <summary>Start a key update after every this many packets sent (RFC 9001 section 6); 0 never.</summary>
    public int KeyUpdateInterval { get; set; }

    /// <summary>The local address to bind; any address of the remote's family when null.</summary>
    public IPEndPoint? LocalEndPoint { get; set; }

    /// <summary>
    /// A token from an earlier connection to the same server (<see cref="QuicConnection.AddressValidationToken"/>),
    /// sent in the Initial so that a server which requires Retry can skip it (RFC 9000 section 8.1.3).
    /// </summary>
    public byte[]? AddressValidationToken { get; set; }

    /// <summary>Give up when the handshake has not completed within this time.</summary>
    public TimeSpan HandshakeTimeout { get; set; } = TimeSpan.FromSeconds(10);

    internal new void Validate()
    {
        base.Validate();
        ArgumentOutOfRangeException.ThrowIfNegative(KeyUpdateInterval);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(HandshakeTimeout, TimeSpan.Zero);
    }
}
