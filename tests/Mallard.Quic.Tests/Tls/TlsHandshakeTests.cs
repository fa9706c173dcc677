using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Mallard.Quic.Crypto;
using Mallard.Quic.Tests.TestSupport;
using Mallard.Quic.Tls;

namespace Mallard.Quic.Tests.Tls;

/// <summary>Mallard's TLS client against Mallard's TLS server, in memory, level by level.</summary>
public class TlsHandshakeTests
{
    private static readonly X509Certificate2 Certificate = TlsServerOptions.CreateSelfSignedCertificate("localhost");

    [Theory]
    [InlineData((ushort)0x1301, KeyExchange.X25519Group)]
    [InlineData((ushort)0x1302, KeyExchange.X25519Group)]
    [InlineData((ushort)0x1303, KeyExchange.Secp256r1Group)]
    public void ClientAndServerAgreeOnEverySecret(ushort suite, ushort group)
    {
        using var client = new TlsClient(ClientOptions() with { CipherSuites = [suite], Groups = [group] });
        using var server = new TlsServer(ServerOptions());

        Pump(client, server);

        Assert.True(client.IsComplete, client.FailureReason);
        Assert.True(server.IsComplete, server.FailureReason);
        Assert.Equal((CipherSuite)suite, client.Suite);
        Assert.Equal(client.HandshakeSecrets!.Value.Client, server.HandshakeSecrets!.Value.Client);
        Assert.Equal(client.ApplicationSecrets!.Value.Server, server.ApplicationSecrets!.Value.Server);
        Assert.Equal(client.ApplicationSecrets.Value.Client, server.ApplicationSecrets.Value.Client);
        Assert.Equal("siduck", client.ApplicationProtocol);
        Assert.Equal("siduck", server.ApplicationProtocol);
        Assert.Equal(new byte[] { 0x0f, 0x00 }, server.PeerTransportParameters);
        Assert.Equal(new byte[] { 0x00, 0x00, 0x0f, 0x00 }, client.PeerTransportParameters);
        Assert.Equal("localhost", server.RequestedServerName);

        // Both sides log the same four secrets under the same client random.
        string[] lines = [.. client.KeyLogLines()];
        Assert.Equal(lines, server.KeyLogLines());
        Assert.Equal(["CLIENT_HANDSHAKE_TRAFFIC_SECRET", "SERVER_HANDSHAKE_TRAFFIC_SECRET", "CLIENT_TRAFFIC_SECRET_0", "SERVER_TRAFFIC_SECRET_0"], lines.Select(l => l.Split(' ')[0]));
        Assert.All(lines, l => Assert.Equal(Convert.ToHexStringLower(client.ClientRandom!), l.Split(' ')[1]));
    }

    [Theory]
    [InlineData("localhost", "CN=other")]
    [InlineData("elsewhere", "CN=localhost")] // the selector answers null: the listener's certificate
    public void ACertificateSelectorPicksByServerName(string serverName, string expectedSubject)
    {
        using X509Certificate2 other = TlsServerOptions.CreateSelfSignedCertificate("other");
        string? presented = null;
        using var client = new TlsClient(ClientOptions() with
        {
            ServerName = serverName,
            SkipCertificateValidation = false,
            ValidateCertificate = (certificate, _) => (presented = certificate.Subject) is not null,
        });
        using var server = new TlsServer(ServerOptions() with { CertificateSelector = name => name == "localhost" ? other : null });

        Pump(client, server);

        Assert.True(client.IsComplete, client.FailureReason);
        Assert.Equal(expectedSubject, presented);
    }

    [Fact]
    public void ACertificateSelectorThatThrowsFailsThatHandshakeWithInternalError()
    {
        using var client = new TlsClient(ClientOptions());
        using var server = new TlsServer(ServerOptions() with { CertificateSelector = _ => throw new InvalidOperationException("no such name") });

        Assert.False(server.Receive(EncryptionLevel.Initial, client.TakeOutput(EncryptionLevel.Initial)));
        Assert.Equal(TlsAlert.InternalError, server.Alert);
        Assert.Contains("no such name", server.FailureReason, StringComparison.Ordinal);
    }

    [Fact]
    public void AKeyShareForAnUnacceptedGroupGetsAHelloRetryRequest()
    {
        using var client = new TlsClient(ClientOptions() with { Groups = [KeyExchange.X25519Group, KeyExchange.Secp256r1Group] });
        using var server = new TlsServer(ServerOptions() with { Groups = [KeyExchange.Secp256r1Group] });

        Pump(client, server);

        Assert.True(client.IsComplete, client.FailureReason);
        Assert.True(server.IsComplete, server.FailureReason);
        Assert.Equal(client.ApplicationSecrets!.Value.Client, server.ApplicationSecrets!.Value.Client);
    }

    [Fact]
    public void AServerHelloMayNotChangeTheCipherSuiteTheHelloRetryRequestChose()
    {
        // Offer two suites; the server (P-256 only) answers the x25519 share with a HelloRetryRequest.
        using var client = new TlsClient(ClientOptions() with { CipherSuites = [0x1301, 0x1302], Groups = [KeyExchange.X25519Group, KeyExchange.Secp256r1Group] });
        using var server = new TlsServer(ServerOptions() with { Groups = [KeyExchange.Secp256r1Group] });
        server.Receive(EncryptionLevel.Initial, client.TakeOutput(EncryptionLevel.Initial));
        Assert.True(client.Receive(EncryptionLevel.Initial, server.TakeOutput(EncryptionLevel.Initial)));
        server.Receive(EncryptionLevel.Initial, client.TakeOutput(EncryptionLevel.Initial));

        // The ServerHello (type, length, version, random, empty session ID, then the suite) switches to the other suite.
        byte[] hello = server.TakeOutput(EncryptionLevel.Initial);
        Assert.Equal(0x01, hello[4 + 2 + 32 + 1 + 1]);
        hello[4 + 2 + 32 + 1 + 1] = 0x02;

        Assert.False(client.Receive(EncryptionLevel.Initial, hello));
        Assert.Equal(TlsAlert.IllegalParameter, client.Alert);
    }

    [Fact]
    public void AClientWithNoServerNameValidatesNothing()
    {
        using var ca = new TestCertificateAuthority();
        using var client = new TlsClient(ClientOptions() with { ServerName = null, SkipCertificateValidation = false, ChainPolicy = ca.TrustOnlyThis() });
        using var server = new TlsServer(ServerOptions() with { Certificate = ca.Issue(dnsNames: ["evil.example"]) });

        Pump(client, server);

        Assert.Equal(TlsAlert.BadCertificate, client.Alert);
    }

    [Theory]
    [InlineData("evil.example", false)]
    [InlineData("server.example", true)]
    public void ThePrivateCaChainAndTheNameAreChecked(string issuedFor, bool accepted)
    {
        using var ca = new TestCertificateAuthority();
        using var client = new TlsClient(ClientOptions() with { ServerName = "server.example", SkipCertificateValidation = false, ChainPolicy = ca.TrustOnlyThis() });
        using var server = new TlsServer(ServerOptions() with { Certificate = ca.Issue(dnsNames: [issuedFor]) });

        Pump(client, server);

        Assert.Equal(accepted, client.IsComplete);
        Assert.Equal(accepted ? null : TlsAlert.BadCertificate, client.Alert);
    }

    [Fact]
    public void NoCommonApplicationProtocolIsNoApplicationProtocol()
    {
        using var client = new TlsClient(ClientOptions() with { ApplicationProtocols = ["h3"] });
        using var server = new TlsServer(ServerOptions());

        Pump(client, server);

        Assert.Equal(TlsAlert.NoApplicationProtocol, server.Alert);
        Assert.Equal(0x178, 0x100 + (int)server.Alert!.Value);
        Assert.False(client.IsComplete);
    }

    [Fact]
    public void ASelfSignedCertificateFailsDefaultValidation()
    {
        using var client = new TlsClient(ClientOptions() with { SkipCertificateValidation = false });
        using var server = new TlsServer(ServerOptions());

        Pump(client, server);

        Assert.Equal(TlsAlert.BadCertificate, client.Alert);
    }

    [Fact]
    public void ACustomValidatorDecides()
    {
        string? seen = null;
        using var client = new TlsClient(ClientOptions() with
        {
            SkipCertificateValidation = false,
            ValidateCertificate = (leaf, _) => { seen = leaf.Subject; return leaf.Thumbprint == Certificate.Thumbprint; },
        });
        using var server = new TlsServer(ServerOptions());

        Pump(client, server);

        Assert.True(client.IsComplete, client.FailureReason);
        Assert.Equal("CN=localhost", seen);
    }

    [Fact]
    public void ATamperedServerFlightIsRefused()
    {
        using var client = new TlsClient(ClientOptions());
        using var server = new TlsServer(ServerOptions());
        server.Receive(EncryptionLevel.Initial, client.TakeOutput(EncryptionLevel.Initial));
        client.Receive(EncryptionLevel.Initial, server.TakeOutput(EncryptionLevel.Initial));
        byte[] flight = server.TakeOutput(EncryptionLevel.Handshake);
        flight[^1] ^= 0x01; // inside the server's Finished

        Assert.False(client.Receive(EncryptionLevel.Handshake, flight));
        Assert.Equal(TlsAlert.DecryptError, client.Alert);
    }

    [Fact]
    public void MessagesAtTheWrongLevelAreUnexpected()
    {
        using var client = new TlsClient(ClientOptions());
        using var server = new TlsServer(ServerOptions());

        Assert.False(server.Receive(EncryptionLevel.Handshake, client.TakeOutput(EncryptionLevel.Initial)));
        Assert.Equal(TlsAlert.UnexpectedMessage, server.Alert);
    }

    [Fact]
    public void TheFlightsCanArriveOneOctetAtATime()
    {
        using var client = new TlsClient(ClientOptions());
        using var server = new TlsServer(ServerOptions());
        foreach (byte b in client.TakeOutput(EncryptionLevel.Initial))
        {
            Assert.True(server.Receive(EncryptionLevel.Initial, [b]));
        }

        foreach (byte b in server.TakeOutput(EncryptionLevel.Initial))
        {
            Assert.True(client.Receive(EncryptionLevel.Initial, [b]));
        }

        foreach (byte b in server.TakeOutput(EncryptionLevel.Handshake))
        {
            Assert.True(client.Receive(EncryptionLevel.Handshake, [b]));
        }

        Assert.True(client.IsComplete);
        Assert.True(server.Receive(EncryptionLevel.Handshake, client.TakeOutput(EncryptionLevel.Handshake)));
        Assert.True(server.IsComplete);
    }

    [Fact]
    public void RandomBytesNeverThrow()
    {
        var random = new Random(8446);
        for (int i = 0; i < 2_000; i++)
        {
            using var server = new TlsServer(ServerOptions());
            byte[] junk = new byte[random.Next(0, 300)];
            random.NextBytes(junk);
            if (junk.Length > 4)
            {
                junk[0] = 1;
                junk[1] = 0;
                junk[2] = 0;
                junk[3] = (byte)(junk.Length - 4);
            }

            server.Receive(EncryptionLevel.Initial, junk);
        }
    }

    internal static TlsClientOptions ClientOptions() => new()
    {
        ServerName = "localhost",
        ApplicationProtocols = ["siduck", "siduck-00"],
        TransportParameters = [0x0f, 0x00],
        SkipCertificateValidation = true,
    };

    internal static TlsServerOptions ServerOptions() => new()
    {
        Certificate = Certificate,
        ApplicationProtocols = ["siduck-00", "siduck"],
        TransportParameters = [0x00, 0x00, 0x0f, 0x00],
    };

    /// <summary>Moves handshake bytes between the two until neither has anything to say.</summary>
    internal static void Pump(TlsClient client, TlsServer server)
    {
        for (int round = 0; round < 10; round++)
        {
            bool moved = false;
            foreach (EncryptionLevel level in Enum.GetValues<EncryptionLevel>())
            {
                byte[] toServer = client.TakeOutput(level);
                if (toServer.Length > 0)
                {
                    moved = true;
                    server.Receive(level, toServer);
                }

                byte[] toClient = server.TakeOutput(level);
                if (toClient.Length > 0)
                {
                    moved = true;
                    client.Receive(level, toClient);
                }
            }

            if (!moved)
            {
                return;
            }
        }
    }
}
