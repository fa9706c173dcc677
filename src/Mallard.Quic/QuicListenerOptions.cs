using System.Net;
using System.Security.Cryptography.X509Certificates;
using Mallard.Quic.Connections;

namespace Mallard.Quic;

/// <summary>How a server listens (the counterpart of System.Net.Quic's options of the same name).</summary>
public sealed class QuicListenerOptions
{
    /// <summary>The address and port to receive on; port 0 picks a free one.</summary>
    public required IPEndPoint ListenEndPoint { get; set; }

    /// <summary>ALPN protocols accepted; a client offering none of them gets no_application_protocol (CRYPTO_ERROR 0x178).</summary>
    public required IReadOnlyList<string> ApplicationProtocols { get; set; }

    /// <summary>The certificate with its private key; a self-signed ECDSA P-256 one for "localhost" is made when null.</summary>
    public X509Certificate2? ServerCertificate { get; set; }

    /// <summary>
    /// Chooses the certificate for each handshake by the server name the client asked for (SNI;
    /// null when it sent none), for a server with several names; returning null uses
    /// <see cref="ServerCertificate"/>. It runs on the listener's I/O thread during the handshake:
    /// keep it fast and never block in it. A selector that throws fails that handshake only.
    /// </summary>
    public Func<string?, X509Certificate2?>? ServerCertificateSelector { get; set; }

    /// <summary>Settings of accepted connections.</summary>
    public QuicConnectionOptions ConnectionOptions { get; set; } = new();

    /// <summary>Validate every client's address with a Retry before accepting it (RFC 9000 section 8.1.2).</summary>
    public bool RequireRetry { get; set; }

    /// <summary>
    /// Handshakes with clients whose address is not yet validated that may be under way at once;
    /// beyond it new clients must answer a Retry first (RFC 9000 section 8.1.2), so a flood of
    /// Initials cannot fill the server with half-open connections. Default 128, as in quic-go; 0
    /// asks every client without a token for a Retry, like <see cref="RequireRetry"/>.
    /// </summary>
    public int MaxUnvalidatedHandshakes { get; set; } = 128;

    /// <summary>Makes the server's connection IDs (for example QUIC-LB ones); 8 random octets when null.</summary>
    public IConnectionIdGenerator? ConnectionIdGenerator { get; set; }

    /// <summary>
    /// 64 secret octets for stateless reset and address validation tokens and session tickets;
    /// servers sharing it can reset each other's connections and resume each other's sessions.
    /// </summary>
    public byte[]? StaticKey { get; set; }

    /// <summary>
    /// How long the session ticket issued after each handshake holds (RFC 8446 section 4.6.1):
    /// a client that returns within it resumes without the certificate exchange. At most seven
    /// days; <see cref="TimeSpan.Zero"/> issues no tickets and accepts none.
    /// </summary>
    public TimeSpan SessionTicketLifetime { get; set; } = TimeSpan.FromDays(1);

    /// <summary>
    /// Accept 0-RTT early data (RFC 9001 section 4.6) from clients resuming with a ticket issued
    /// while this was on; the tickets then carry early_data (so <see cref="SessionTicketLifetime"/>
    /// must be above zero, or listening fails naming both). A connection whose early data is
    /// accepted is handed to <see cref="QuicListener.AcceptConnectionAsync"/> before its handshake
    /// completes, so that its first requests are answered at once;
    /// <see cref="QuicConnection.EarlyDataAccepted"/> says so. Early data can be replayed by an
    /// attacker who captured it. This listener refuses a replay of early data it accepted within the
    /// last 20 s and any whose ticket age is more than 10 s off (RFC 8446 section 8); each server of a
    /// fleet keeps its own record, so act on early data only where a repeat is harmless, or await
    /// <see cref="QuicConnection.WaitForHandshakeAsync"/> first.
    /// </summary>
    public bool EarlyData { get; set; }

    /// <summary>The TLS 1.3 cipher suites accepted, in preference order; null accepts AES-128-GCM, AES-256-GCM and ChaCha20-Poly1305.</summary>
    public IReadOnlyList<System.Net.Security.TlsCipherSuite>? CipherSuites { get; set; }

    /// <summary>How many connections may wait in the accept queue.</summary>
    public int ListenBacklog { get; set; } = 512;
}
