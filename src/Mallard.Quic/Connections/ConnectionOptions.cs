using System.Security.Cryptography.X509Certificates;
using Mallard.Quic.Tls;
using Mallard.Quic.Transport;

namespace Mallard.Quic.Connections;

/// <summary>Everything one side of a connection is configured with; the I/O host builds it from the public options.</summary>
internal sealed record ConnectionOptions
{
    public required bool IsServer { get; init; }

    /// <summary>ALPN protocols: offered (client) or accepted (server), in preference order.</summary>
    public required IReadOnlyList<string> ApplicationProtocols { get; init; }

    /// <summary>The limits this endpoint advertises; the connection fills in the connection ID fields.</summary>
    public required TransportParameters LocalParameters { get; init; }

    public IConnectionIdGenerator ConnectionIds { get; init; } = new RandomConnectionIdGenerator();

    /// <summary>Client: the server name for SNI and certificate checks.</summary>
    public string? ServerName { get; init; }

    /// <summary>Client: skip certificate validation (tests, -k).</summary>
    public bool SkipCertificateValidation { get; init; }

    /// <summary>Client: the chain policy of the default certificate check.</summary>
    public X509ChainPolicy? CertificateChainPolicy { get; init; }

    /// <summary>Client: a custom certificate check.</summary>
    public Func<X509Certificate2, IReadOnlyList<X509Certificate2>, bool>? ValidateCertificate { get; init; }

    /// <summary>Server: the certificate with its private key.</summary>
    public X509Certificate2? Certificate { get; init; }

    /// <summary>Server: picks the certificate by the client's SNI; null, or a null answer, means <see cref="Certificate"/>.</summary>
    public Func<string?, X509Certificate2?>? CertificateSelector { get; init; }

    public IReadOnlyList<ushort> CipherSuites { get; init; } = TlsHandshake.SupportedCipherSuites;

    public IReadOnlyList<ushort> Groups { get; init; } = [KeyExchange.X25519Group, KeyExchange.Secp256r1Group];

    /// <summary>The largest UDP payload sent: the ceiling of path MTU discovery, or with discovery off the size sent once the handshake is confirmed.</summary>
    public int MaxUdpPayloadSize { get; init; } = 1452;

    /// <summary>Whether path MTU discovery probes the path (RFC 8899); off, <see cref="MaxUdpPayloadSize"/> is used unprobed.</summary>
    public bool DiscoverPathMtu { get; init; } = true;

    /// <summary>Receives SSLKEYLOGFILE lines as secrets become known.</summary>
    public Action<string>? KeyLog { get; init; }

    /// <summary>The stateless reset token that goes with one of this endpoint's connection IDs (RFC 9000 section 10.3.2).</summary>
    public Func<byte[], byte[]> ResetTokenFor { get; init; } = _ => System.Security.Cryptography.RandomNumberGenerator.GetBytes(16);

    /// <summary>Server: makes a NEW_TOKEN token for the client once the handshake is done (RFC 9000 section 8.1.3).</summary>
    public Func<byte[]>? NewToken { get; init; }

    /// <summary>Largest flow-control window the receive-side auto-tuning grows to.</summary>
    public ulong MaxReceiveWindow { get; init; } = 16 * 1024 * 1024;

    /// <summary>Send a PING when nothing ack-eliciting went out for this long, in microseconds (0: never).</summary>
    public long KeepAliveInterval { get; init; }

    /// <summary>Datagrams that may wait to be sent; more are refused (RFC 9221 section 5).</summary>
    public int DatagramSendQueueCapacity { get; init; } = 256;

    /// <summary>Received datagrams that may wait to be read; beyond that the oldest is dropped.</summary>
    public int DatagramReceiveQueueCapacity { get; init; } = 1024;

    /// <summary>Opens the stream a connection writes its qlog to, given a file name; null writes none.</summary>
    public Func<string, Stream>? OpenQlog { get; init; }

    /// <summary>Datagrams before stream data, or taking turns with it.</summary>
    public QuicDatagramPriority DatagramPriority { get; init; }

    /// <summary>A queued datagram older than this is dropped instead of sent, in microseconds (0: no limit).</summary>
    public long DatagramMaxAge { get; init; }

    /// <summary>The congestion controller (RFC 9438 CUBIC by default, or RFC 9002 NewReno).</summary>
    public QuicCongestionControl CongestionControl { get; init; }

    /// <summary>Client: send a key update every this many packets (0: only on request); the interop keyupdate case uses it.</summary>
    public ulong KeyUpdateInterval { get; init; }

    /// <summary>Server: how long issued session tickets hold, in seconds; 0 issues none.</summary>
    public uint SessionTicketLifetimeSeconds { get; init; } = 24 * 3600;

    /// <summary>Server: seals and opens tickets (set by the endpoint from its static key).</summary>
    public SessionTicketSealer? SessionTickets { get; init; }

    /// <summary>Client: a ticket from an earlier connection to resume with.</summary>
    public SessionTicket? ResumeWith { get; init; }

    /// <summary>Client: send 0-RTT early data when <see cref="ResumeWith"/> allows it (RFC 9001 section 4.6).</summary>
    public bool OfferEarlyData { get; init; }

    /// <summary>Server: accept 0-RTT early data, refusing replays with this guard; null accepts none and issues tickets without early_data.</summary>
    public EarlyDataReplayGuard? EarlyDataGuard { get; init; }

    /// <summary>Wall-clock time in Unix milliseconds, for ticket ages.</summary>
    public Func<long> NowMilliseconds { get; init; } = () => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
}
