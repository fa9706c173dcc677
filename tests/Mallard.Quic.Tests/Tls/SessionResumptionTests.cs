using System.Security.Cryptography;
using Mallard.Quic.Crypto;
using Mallard.Quic.Tls;
using static Mallard.Quic.Tests.Tls.TlsHandshakeTests;

namespace Mallard.Quic.Tests.Tls;

/// <summary>Session tickets and PSK resumption (RFC 8446 sections 2.2, 4.2.11, 4.6.1), Mallard's client against Mallard's server in memory.</summary>
public class SessionResumptionTests
{
    private static readonly byte[] StaticKey = RandomNumberGenerator.GetBytes(64);

    /// <summary>A full handshake with a ticket-issuing server; the ticket the client keeps.</summary>
    private static SessionTicket FirstTicket(SessionTicketSealer sealer, TlsServerOptions? server = null)
    {
        using var client = new TlsClient(ClientOptions());
        using var tls = new TlsServer((server ?? ServerOptions()) with { SessionTickets = sealer });
        Pump(client, tls);
        Assert.True(client.IsComplete && !client.IsResumed && !tls.IsResumed);
        return client.ReceivedTicket ?? throw new InvalidOperationException("no ticket arrived");
    }

    [Fact]
    public void ATicketResumesWithoutTheCertificateAndBothSidesAgree()
    {
        using var sealer = new SessionTicketSealer(StaticKey);
        SessionTicket ticket = FirstTicket(sealer);
        Assert.Equal("siduck", ticket.ApplicationProtocol);
        Assert.Equal(24u * 3600, ticket.LifetimeSeconds);

        using var client = new TlsClient(ClientOptions() with { SessionTicket = ticket });
        using var server = new TlsServer(ServerOptions() with { SessionTickets = sealer });
        server.Receive(EncryptionLevel.Initial, client.TakeOutput(EncryptionLevel.Initial));
        byte[] serverFlight = server.TakeOutput(EncryptionLevel.Handshake);
        client.Receive(EncryptionLevel.Initial, server.TakeOutput(EncryptionLevel.Initial));
        client.Receive(EncryptionLevel.Handshake, serverFlight);
        server.Receive(EncryptionLevel.Handshake, client.TakeOutput(EncryptionLevel.Handshake));

        Assert.True(client.IsComplete, client.FailureReason);
        Assert.True(server.IsComplete, server.FailureReason);
        Assert.True(client.IsResumed);
        Assert.True(server.IsResumed);
        Assert.Equal(client.ApplicationSecrets!.Value.Client, server.ApplicationSecrets!.Value.Client);
        Assert.Equal(client.ApplicationSecrets.Value.Server, server.ApplicationSecrets.Value.Server);
        Assert.True(serverFlight.Length < 200, $"EncryptedExtensions and Finished only, no certificate: {serverFlight.Length} octets");

        // The resumed connection gets a fresh ticket of its own.
        client.Receive(EncryptionLevel.OneRtt, server.TakeOutput(EncryptionLevel.OneRtt));
        Assert.NotNull(client.ReceivedTicket);
        Assert.NotEqual(ticket.PreSharedKey, client.ReceivedTicket.PreSharedKey);
    }

    [Fact]
    public void ATicketResumesOnAnotherServerThatSharesTheStaticKey()
    {
        using var first = new SessionTicketSealer(StaticKey);
        using var second = new SessionTicketSealer(StaticKey);
        SessionTicket ticket = FirstTicket(first);

        using var client = new TlsClient(ClientOptions() with { SessionTicket = ticket });
        using var server = new TlsServer(ServerOptions() with { SessionTickets = second });
        Pump(client, server);

        Assert.True(client.IsResumed && server.IsResumed && client.IsComplete && server.IsComplete);
    }

    [Fact]
    public void ResumptionSurvivesAHelloRetryRequest()
    {
        using var sealer = new SessionTicketSealer(StaticKey);
        SessionTicket ticket = FirstTicket(sealer);

        using var client = new TlsClient(ClientOptions() with { SessionTicket = ticket, Groups = [KeyExchange.X25519Group, KeyExchange.Secp256r1Group] });
        using var server = new TlsServer(ServerOptions() with { SessionTickets = sealer, Groups = [KeyExchange.Secp256r1Group] });
        Pump(client, server);

        Assert.True(client.IsComplete && server.IsComplete, client.FailureReason ?? server.FailureReason);
        Assert.True(client.IsResumed && server.IsResumed);
    }

    public static TheoryData<string> UnusableTickets => ["another key", "expired", "another protocol", "tickets off"];

    [Theory]
    [MemberData(nameof(UnusableTickets))]
    public void AnUnusableTicketMeansAFullHandshake(string why)
    {
        using var sealer = new SessionTicketSealer(StaticKey);
        using var otherKey = new SessionTicketSealer(RandomNumberGenerator.GetBytes(64));
        SessionTicket ticket = FirstTicket(sealer);
        TlsServerOptions server = why switch
        {
            "another key" => ServerOptions() with { SessionTickets = otherKey },
            "expired" => ServerOptions() with { SessionTickets = sealer, NowMilliseconds = () => DateTimeOffset.UtcNow.AddDays(2).ToUnixTimeMilliseconds() },
            "another protocol" => ServerOptions() with { SessionTickets = sealer, ApplicationProtocols = ["siduck-00"] },
            _ => ServerOptions(),
        };

        using var client = new TlsClient(ClientOptions() with { SessionTicket = ticket });
        using var tls = new TlsServer(server);
        Pump(client, tls);

        Assert.True(client.IsComplete && tls.IsComplete, client.FailureReason ?? tls.FailureReason);
        Assert.False(client.IsResumed);
        Assert.False(tls.IsResumed);
    }

    [Fact]
    public void AClientDoesNotOfferATicketPastItsLifetime()
    {
        using var sealer = new SessionTicketSealer(StaticKey);
        SessionTicket ticket = FirstTicket(sealer) with { ReceivedAtMilliseconds = DateTimeOffset.UtcNow.AddDays(-2).ToUnixTimeMilliseconds() };

        using var client = new TlsClient(ClientOptions() with { SessionTicket = ticket });
        byte[] hello = client.TakeOutput(EncryptionLevel.Initial);

        ClientHello parsed = ClientHello.TryParse(hello, out _)!;
        Assert.Null(parsed.Find(TlsExtension.PreSharedKey));
    }

    [Fact]
    public void AClientDoesNotShowATicketToAnotherServerName()
    {
        using var sealer = new SessionTicketSealer(StaticKey);
        SessionTicket ticket = FirstTicket(sealer); // issued to "localhost"

        using var client = new TlsClient(ClientOptions() with { ServerName = "elsewhere.example", SessionTicket = ticket });
        ClientHello parsed = ClientHello.TryParse(client.TakeOutput(EncryptionLevel.Initial), out _)!;

        Assert.Null(parsed.Find(TlsExtension.PreSharedKey));
    }

    [Fact]
    public void ABinderThatDoesNotVerifyIsDecryptError()
    {
        using var sealer = new SessionTicketSealer(StaticKey);
        SessionTicket ticket = FirstTicket(sealer);
        using var client = new TlsClient(ClientOptions() with { SessionTicket = ticket });
        using var server = new TlsServer(ServerOptions() with { SessionTickets = sealer });
        byte[] hello = client.TakeOutput(EncryptionLevel.Initial);
        hello[^1] ^= 0x01; // the binder is the last octets of the ClientHello

        Assert.False(server.Receive(EncryptionLevel.Initial, hello));
        Assert.Equal(TlsAlert.DecryptError, server.Alert);
    }

    [Fact]
    public void ATicketSealedForOneStateOpensToExactlyThatState()
    {
        using var sealer = new SessionTicketSealer(StaticKey);
        var state = new SessionTicketSealer.State(CipherSuite.Aes256GcmSha384, 1_700_000_000_000, 3600, 0xdeadbeef, RandomNumberGenerator.GetBytes(48), "h3");
        byte[] sealedTicket = sealer.Seal(state);

        SessionTicketSealer.State opened = sealer.TryOpen(sealedTicket)!;
        Assert.Equal((state.Suite, state.IssuedAtMilliseconds, state.LifetimeSeconds, state.AgeAdd, state.ApplicationProtocol), (opened.Suite, opened.IssuedAtMilliseconds, opened.LifetimeSeconds, opened.AgeAdd, opened.ApplicationProtocol));
        Assert.Equal(state.PreSharedKey, opened.PreSharedKey);

        sealedTicket[20] ^= 1;
        Assert.Null(sealer.TryOpen(sealedTicket));
        Assert.Null(sealer.TryOpen(RandomNumberGenerator.GetBytes(100)));
        Assert.Null(sealer.TryOpen([]));
    }
}
