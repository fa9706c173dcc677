using System.Security.Cryptography;
using Mallard.Quic.Crypto;
using Mallard.Quic.Tls;
using static Mallard.Quic.Tests.Tls.TlsHandshakeTests;

namespace Mallard.Quic.Tests.Tls;

/// <summary>The TLS side of 0-RTT (RFC 8446 sections 4.2.10 and 8, RFC 9001 section 4.6), client against server in memory.</summary>
public class EarlyDataHandshakeTests
{
    private static readonly byte[] StaticKey = RandomNumberGenerator.GetBytes(64);
    private static readonly ulong[] Limits = [1 << 20, 1 << 18, 1 << 18, 1 << 18, 100, 100, 4, 1200];

    private static TlsServerOptions EarlyServer(SessionTicketSealer sealer, EarlyDataReplayGuard guard) =>
        ServerOptions() with { SessionTickets = sealer, EarlyDataLimits = Limits, ReplayGuard = guard };

    private static SessionTicket Ticket(SessionTicketSealer sealer, EarlyDataReplayGuard guard)
    {
        using var client = new TlsClient(ClientOptions());
        using var server = new TlsServer(EarlyServer(sealer, guard));
        Pump(client, server);
        return client.ReceivedTicket ?? throw new InvalidOperationException("no ticket arrived");
    }

    [Fact]
    public void BothSidesDeriveTheSameEarlySecretAndAgreeThatEarlyDataWasAccepted()
    {
        using var sealer = new SessionTicketSealer(StaticKey);
        var guard = new EarlyDataReplayGuard();
        SessionTicket ticket = Ticket(sealer, guard);
        Assert.True(ticket.AllowsEarlyData);

        using var client = new TlsClient(ClientOptions() with { SessionTicket = ticket, OfferEarlyData = true });
        Assert.True(client.EarlyDataOffered);
        Assert.NotNull(client.ClientEarlySecret);
        Assert.Contains(client.KeyLogLines(), line => line.StartsWith("CLIENT_EARLY_TRAFFIC_SECRET ", StringComparison.Ordinal));

        using var server = new TlsServer(EarlyServer(sealer, guard));
        Pump(client, server);
        Assert.True(server.EarlyDataAccepted && client.EarlyDataAccepted && !client.EarlyDataRejected);
        Assert.Equal(client.ClientEarlySecret, server.ClientEarlySecret);
        Assert.Equal(ticket.Suite, server.EarlySuite);
    }

    [Fact]
    public void TheSameClientHelloTwiceIsAcceptedOnce()
    {
        using var sealer = new SessionTicketSealer(StaticKey);
        var guard = new EarlyDataReplayGuard();
        SessionTicket ticket = Ticket(sealer, guard);
        using var client = new TlsClient(ClientOptions() with { SessionTicket = ticket, OfferEarlyData = true });
        byte[] hello = client.TakeOutput(EncryptionLevel.Initial);

        using var first = new TlsServer(EarlyServer(sealer, guard));
        using var replayed = new TlsServer(EarlyServer(sealer, guard));
        Assert.True(first.Receive(EncryptionLevel.Initial, hello));
        Assert.True(replayed.Receive(EncryptionLevel.Initial, hello));

        Assert.True(first.EarlyDataAccepted);
        Assert.False(replayed.EarlyDataAccepted);
        Assert.True(replayed.IsResumed); // the replay still gets a handshake it cannot finish, without the early data
        Assert.Null(replayed.ClientEarlySecret);
        Assert.Equal((1L, 1L), (guard.Accepted, guard.Replays));
    }

    [Fact]
    public void TheReplayRecordIsBoundedAndForgetsAfterTwiceTheWindow()
    {
        var guard = new EarlyDataReplayGuard(windowMilliseconds: 1_000, capacity: 2);
        byte[] a = RandomNumberGenerator.GetBytes(32), b = RandomNumberGenerator.GetBytes(32), c = RandomNumberGenerator.GetBytes(32);
        Assert.True(guard.TryAccept(a, 100, 100, 10_000));
        Assert.True(guard.TryAccept(b, 100, 100, 10_000));
        Assert.False(guard.TryAccept(c, 100, 100, 10_000)); // full: refused, not evicting a record that still guards
        Assert.Equal(1, guard.Full);
        Assert.False(guard.TryAccept(a, 100, 100, 11_999));
        Assert.True(guard.TryAccept(c, 100, 100, 12_000)); // a and b expired
        Assert.False(guard.TryAccept(a, 100, 1_101, 12_000)); // ages 1,001 ms apart: not fresh
        Assert.Equal((2L, 1L, 1L), (guard.Replays + guard.NotFresh, guard.Replays, guard.NotFresh));
        Assert.Equal(1, guard.Recorded);
    }

    [Fact]
    public void ATicketWithAnEarlyDataSizeOtherThanTheQuicOneIsAProtocolViolation()
    {
        byte[] message = new NewSessionTicketMessage(3600, 1, [0], [1, 2, 3], AllowsEarlyData: true).Encode();
        message[^1] = 0x00; // max_early_data_size 0xffffff00
        Assert.Null(NewSessionTicketMessage.TryParse(message, out bool badSize));
        Assert.True(badSize);

        using var sealer = new SessionTicketSealer(StaticKey);
        using var client = new TlsClient(ClientOptions());
        using var server = new TlsServer(ServerOptions() with { SessionTickets = sealer });
        Pump(client, server);
        Assert.False(client.Receive(EncryptionLevel.OneRtt, message));
        Assert.True(client.IsProtocolViolation);
    }

    [Fact]
    public void ATicketWithTwoEarlyDataExtensionsIsMalformed()
    {
        byte[] once = new NewSessionTicketMessage(3600, 1, [0], [1, 2, 3], AllowsEarlyData: true).Encode();
        Assert.True(NewSessionTicketMessage.TryParse(once, out _)!.AllowsEarlyData);

        // The extension block repeated: 4-octet header, lifetime, age_add, nonce, ticket, then the block.
        int block = 4 + 4 + 4 + 2 + 2 + 3;
        byte[] extension = once[(block + 2)..];
        byte[] twice = [.. once[..block], 0, (byte)(2 * extension.Length), .. extension, .. extension];
        int bodyLength = twice.Length - 4;
        twice[1] = (byte)(bodyLength >> 16);
        twice[2] = (byte)(bodyLength >> 8);
        twice[3] = (byte)bodyLength;
        Assert.Null(NewSessionTicketMessage.TryParse(twice, out bool badSize));
        Assert.False(badSize); // malformed (decode_error), not the QUIC size rule
    }

    [Fact]
    public void EarlyDataAcceptedButNeverOfferedIsIllegalParameter()
    {
        using var sealer = new SessionTicketSealer(StaticKey);
        var guard = new EarlyDataReplayGuard();
        SessionTicket ticket = Ticket(sealer, guard);

        // The server took 0-RTT; the client that receives its EncryptedExtensions never offered it.
        using var offering = new TlsClient(ClientOptions() with { SessionTicket = ticket, OfferEarlyData = true });
        using var server = new TlsServer(EarlyServer(sealer, guard));
        server.Receive(EncryptionLevel.Initial, offering.TakeOutput(EncryptionLevel.Initial));
        Assert.True(server.EarlyDataAccepted);

        using var silent = new TlsClient(ClientOptions() with { SessionTicket = ticket });
        Assert.False(silent.EarlyDataOffered);
        Assert.True(silent.Receive(EncryptionLevel.Initial, server.TakeOutput(EncryptionLevel.Initial)), silent.FailureReason);
        Assert.False(silent.Receive(EncryptionLevel.Handshake, server.TakeOutput(EncryptionLevel.Handshake)));
        Assert.Equal(TlsAlert.IllegalParameter, silent.Alert);
    }

    [Fact]
    public void ATicketRemembersTheLimitsAndAServerWithLowerOnesRefusesTheEarlyData()
    {
        using var sealer = new SessionTicketSealer(StaticKey);
        var state = new SessionTicketSealer.State(CipherSuite.Aes128GcmSha256, 1_700_000_000_000, 3600, 7, RandomNumberGenerator.GetBytes(32), "h3", Limits);
        Assert.Equal(Limits, sealer.TryOpen(sealer.Seal(state))!.EarlyDataLimits);
        Assert.Null(sealer.TryOpen(sealer.Seal(state with { EarlyDataLimits = null }))!.EarlyDataLimits);

        var guard = new EarlyDataReplayGuard();
        SessionTicket ticket = Ticket(sealer, guard);
        ulong[] lower = [.. Limits];
        lower[4] = 10; // fewer bidirectional streams than the ticket promised
        using var client = new TlsClient(ClientOptions() with { SessionTicket = ticket, OfferEarlyData = true });
        using var server = new TlsServer(EarlyServer(sealer, guard) with { EarlyDataLimits = lower });
        Pump(client, server);
        Assert.True(client.IsComplete && client.IsResumed);
        Assert.True(client.EarlyDataRejected);
        Assert.False(server.EarlyDataAccepted);
        Assert.Equal(0, guard.Accepted); // refused before it was recorded
    }
}
