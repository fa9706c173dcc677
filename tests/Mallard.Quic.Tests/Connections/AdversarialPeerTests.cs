using System.Reflection;
using Mallard.Quic.Connections;
using Mallard.Quic.Frames;
using Mallard.Quic.Streams;
using Mallard.Quic.Tests.TestSupport;
using Mallard.Quic.Transport;

namespace Mallard.Quic.Tests.Connections;

/// <summary>
/// The hostile-peer findings of the hardening review, each as a black-box attack on a server in
/// the virtual network: what one peer can make the server hold, do, or repeat.
/// </summary>
public class AdversarialPeerTests
{
    [Fact]
    public void OverlappingCryptoFramesInInitialsHoldAtMostWhatTheyCover()
    {
        // 3,000 Initials from one (spoofable) address, each a 1,100-octet CRYPTO frame at offset
        // 1, 2, 3, …: the old reassembly kept every frame (3.3 MB on one half-open connection).
        using var network = new VirtualNetwork();
        byte[] destination = [1, 2, 3, 4, 5, 6, 7, 8];
        byte[] source = [9, 9, 9, 9];
        byte[] chunk = new byte[1_100];
        for (int i = 1; i <= 3_000; i++)
        {
            ulong offset = (ulong)i;
            network.Server.Receive(network.Now, VirtualNetwork.ClientAddress, PacketForge.Initial(destination, source, (ulong)i, (ref FrameWriter w) => w.Crypto(offset, chunk)));
        }

        Connection halfOpen = Assert.Single(network.Server.Connections);
        ReassemblyBuffer crypto = Spaces(halfOpen)[0].CryptoReceive;
        Assert.Equal(0UL, crypto.ReadOffset);
        Assert.True(crypto.HeldOctets <= 8192, $"{crypto.HeldOctets} octets held");
    }

    [Fact]
    public void StreamFramesBeyondTheReadOffsetHoldAtMostTheWindow()
    {
        // 4,000 STREAM frames of 1,000 octets at offsets 1 … 4,000 on a 256 KiB window.
        using var network = new VirtualNetwork();
        Connection client = network.Connect();
        Assert.True(network.RunUntil(() => client.HandshakeConfirmed));
        byte[] chunk = new byte[1_000];
        for (int i = 1; i <= 4_000; i++)
        {
            ulong offset = (ulong)i;
            network.Server.Receive(network.Now, VirtualNetwork.ClientAddress, PacketForge.OneRtt(client, (ref FrameWriter w) => w.Stream(0, offset, chunk, fin: false)));
        }

        Connection server = network.ServerConnection!;
        Assert.Equal(ConnectionState.Established, server.State);
        ReassemblyBuffer receive = server.GetStream(0)!.Receive!;
        Assert.True(receive.HeldOctets <= 8192, $"{receive.HeldOctets} octets held");
    }

    [Fact]
    public void APeerThatNeverAcknowledgesCannotMakeAckOnlyPacketsPileUp()
    {
        // 10,000 PINGs, each answered by an ACK-only packet the peer never acknowledges: the
        // server kept every one (20,000 after 40,000 PINGs) and scanned them on every send.
        using var network = new VirtualNetwork();
        Connection client = network.Connect();
        Assert.True(network.RunUntil(() => client.HandshakeConfirmed));
        network.Drop = (toServer, _) => !toServer; // nothing the server sends arrives
        for (int i = 0; i < 10_000; i++)
        {
            network.InjectToServer(VirtualNetwork.ClientAddress, PacketForge.OneRtt(client, (ref FrameWriter w) => w.Ping()), delay: 1_000);
            network.RunUntil(() => false, limit: 1_000);
        }

        Connection server = network.ServerConnection!;
        Assert.Equal(ConnectionState.Established, server.State);
        Assert.True(Spaces(server)[2].Loss.Remembered <= LossDetectorLimit + 10, $"{Spaces(server)[2].Loss.Remembered} packets remembered");
    }

    [Fact]
    public void AFloodOfConnectionIdsToRetireIsConnectionIdLimitError()
    {
        // Each NEW_CONNECTION_ID retires the one before (retire_prior_to = its own sequence), and
        // the peer never acknowledges the retirements: they queued without bound (121,716 of them).
        using var network = new VirtualNetwork();
        Connection client = network.Connect();
        Assert.True(network.RunUntil(() => client.HandshakeConfirmed));
        network.Drop = (toServer, _) => !toServer;
        ulong sequence = 10;
        for (int packet = 0; packet < 100 && network.ServerConnection!.State == ConnectionState.Established; packet++)
        {
            network.Server.Receive(network.Now, VirtualNetwork.ClientAddress, PacketForge.OneRtt(client, (ref FrameWriter w) =>
            {
                for (int i = 0; i < 40; i++, sequence++)
                {
                    w.NewConnectionId(sequence, sequence, BitConverter.GetBytes(sequence), new byte[16]);
                }
            }));
            network.Server.Send(network.Now, new byte[1500], out _);
        }

        Assert.NotEqual(ConnectionState.Established, network.ServerConnection!.State);
        Assert.Equal((ulong)TransportErrorCode.ConnectionIdLimitError, network.ServerConnection.Error!.Code);
        Assert.True(sequence < 200, $"closed only after {sequence} connection IDs");
    }

    [Fact]
    public void ARepeatedConnectionIdBelowRetirePriorToIsRetiredOnce()
    {
        using var network = new VirtualNetwork();
        Connection client = network.Connect();
        Assert.True(network.RunUntil(() => client.HandshakeConfirmed));
        network.Drop = (toServer, _) => !toServer;
        network.Server.Receive(network.Now, VirtualNetwork.ClientAddress, PacketForge.OneRtt(client, (ref FrameWriter w) => w.NewConnectionId(20, 20, [20, 20, 20, 20, 20, 20, 20, 20], new byte[16])));
        for (int packet = 0; packet < 200; packet++)
        {
            network.Server.Receive(network.Now, VirtualNetwork.ClientAddress, PacketForge.OneRtt(client, (ref FrameWriter w) =>
            {
                for (int i = 0; i < 40; i++)
                {
                    w.NewConnectionId(5, 0, [5, 5, 5, 5, 5, 5, 5, 5], new byte[16]);
                }
            }));
        }

        Assert.Equal(ConnectionState.Established, network.ServerConnection!.State);
        Assert.Equal(1, network.ServerConnection.ConnectionIdsToRetire.Count(s => s == 5));
    }

    [Fact]
    public void AReplayedPacketIsNotProcessedAgainAfterItsRangeIsForgotten()
    {
        // A DATAGRAM, then 40 PINGs with a packet number skipped between each (40 ranges, more
        // than the 32 remembered), then the DATAGRAM's packet again, byte for byte (RFC 9000 section 12.3).
        TransportParameters parameters = VirtualNetwork.Parameters();
        parameters.MaxDatagramFrameSize = 1200;
        using var network = new VirtualNetwork(server: VirtualNetwork.ServerOptions() with { LocalParameters = parameters }, client: VirtualNetwork.DefaultClientOptions() with { LocalParameters = parameters });
        Connection client = network.Connect();
        Assert.True(network.RunUntil(() => client.HandshakeConfirmed && network.ServerConnection?.HandshakeConfirmed == true));
        Connection server = network.ServerConnection!;
        byte[] datagram = PacketForge.OneRtt(client, (ref FrameWriter w) => w.Datagram("quack"u8));
        network.Server.Receive(network.Now, VirtualNetwork.ClientAddress, datagram.ToArray());
        Assert.Equal(1, server.DatagramsWaiting);

        for (int i = 0; i < 40; i++)
        {
            PacketForge.OneRtt(client, (ref FrameWriter w) => w.Ping()); // a packet number never delivered
            network.Server.Receive(network.Now, VirtualNetwork.ClientAddress, PacketForge.OneRtt(client, (ref FrameWriter w) => w.Ping()));
        }

        network.Server.Receive(network.Now, VirtualNetwork.ClientAddress, datagram);
        Assert.Equal(ConnectionState.Established, server.State);
        Assert.Equal(1, server.DatagramsWaiting);
    }

    [Fact]
    public void AVersionNegotiationFloodWithLongConnectionIdsNeitherStallsNorFloodsTheServer()
    {
        // Unknown-version datagrams with 21- and 20-octet connection IDs (RFC 8999 allows 255):
        // the VN buffer held 40 octets of IDs, an empty datagram was queued, and the host's send
        // loop, which stops at the first 0, left every connection's data unsent.
        using var network = new VirtualNetwork();
        Connection client = network.Connect();
        Assert.True(network.RunUntil(() => client.HandshakeConfirmed));
        Assert.True(client.TryOpenStream(true, out ulong id));
        client.WriteStream(id, "GET /\r\n"u8, fin: true);
        Assert.True(network.RunUntil(() => network.ServerConnection!.TryAcceptStream(out _)));
        network.ServerConnection!.WriteStream(id, new byte[500], fin: true);
        network.Server.Touch(network.ServerConnection);

        byte[] unknown = new byte[1200];
        unknown[0] = 0xc0;
        unknown[1] = 0x1a;
        unknown[2] = 0x2a;
        unknown[3] = 0x3a;
        unknown[4] = 0x4a;
        unknown[5] = 21;
        unknown[6 + 21] = 20;
        for (int i = 0; i < 10_000; i++)
        {
            network.Server.Receive(network.Now, VirtualNetwork.ClientAddress, unknown.ToArray());
        }

        var sent = new List<byte[]>();
        byte[] buffer = new byte[1500];
        for (int length; (length = network.Server.Send(network.Now, buffer, out _)) > 0;)
        {
            sent.Add(buffer[..length]);
        }

        // Every Version Negotiation echoes both IDs whole; at most the burst was answered; and the
        // connection's short-header packet went out in the same loop.
        byte[][] negotiations = [.. sent.Where(d => d[0] >= 0x80 && d.AsSpan(1, 4).SequenceEqual(new byte[4]))];
        Assert.InRange(negotiations.Length, 1, 100);
        Assert.All(negotiations, d => Assert.Equal(7 + 21 + 20 + 4, d.Length));
        Assert.Contains(sent, d => d[0] < 0x80);
        Assert.True(network.Server.StatelessAnswersSuppressed >= 10_000 - 100);
    }

    [Fact]
    public void ATokenOfOneServerIsAcceptedByAnotherOfTheFleetWhoseHostClockIsBehind()
    {
        // Tokens carried the host's since-boot clock: a server of the same fleet (same StaticKey)
        // whose host started later saw the token as made in the future and sent a Retry.
        byte[] key = System.Security.Cryptography.RandomNumberGenerator.GetBytes(64);
        var wall = new SettableTimeProvider(DateTimeOffset.UtcNow);
        byte[] token;
        using (var first = new VirtualNetwork(serverKey: key))
        {
            first.Server.WallClock = wall;
            Connection client = first.Connect();
            Assert.True(first.RunUntil(() => client.ReceivedNewToken is not null, 30_000_000)); // virtual time runs on
            token = client.ReceivedNewToken!;
        }

        wall.Now += TimeSpan.FromMinutes(5);
        using var second = new VirtualNetwork(serverKey: key);
        second.Server.WallClock = wall;
        second.Server.RequireRetry = true;
        Connection again = second.Connect(token);
        Assert.True(second.RunUntil(() => again.HandshakeConfirmed));
        Assert.Equal(0, second.Server.RetriesSent);

        // And the lifetime counts in wall-clock time too: a day later the token is stale.
        wall.Now += TimeSpan.FromDays(1);
        using var third = new VirtualNetwork(serverKey: key);
        third.Server.WallClock = wall;
        third.Server.RequireRetry = true;
        Connection late = third.Connect(token);
        Assert.True(third.RunUntil(() => late.HandshakeConfirmed));
        Assert.Equal(1, third.Server.RetriesSent);
    }

    [Fact]
    public void AFloodOfInitialsHoldsAtMostTheHandshakeLimitAndRealClientsStillGetIn()
    {
        // Decryptable Initials with fresh connection IDs each made a half-open connection, up to
        // MaxConnections (10,000), each for the whole idle timeout, and then refused real clients;
        // now past the limit the server answers with a Retry and keeps nothing.
        using var network = new VirtualNetwork();
        network.Server.MaxUnvalidatedHandshakes = 4;
        byte[] chunk = new byte[1_000];
        for (int i = 0; i < 100; i++)
        {
            byte[] destination = BitConverter.GetBytes((long)i + 1_000);
            network.Server.Receive(network.Now, VirtualNetwork.ClientAddress, PacketForge.Initial(destination, [7, 7, 7, 7], 0, (ref FrameWriter w) => w.Crypto(1, chunk)));
        }

        Assert.Equal(4, network.Server.Connections.Count);
        Assert.Equal(96, network.Server.RetriesSent);

        Connection client = network.Connect();
        Assert.True(network.RunUntil(() => client.HandshakeConfirmed));
        Assert.Equal(97, network.Server.RetriesSent);
    }

    private const int LossDetectorLimit = Mallard.Quic.Recovery.LossDetector.MaxAckOnlyRemembered;

    internal static PacketSpace[] Spaces(Connection connection) =>
        (PacketSpace[])typeof(Connection).GetField("_spaces", BindingFlags.NonPublic | BindingFlags.Instance)!.GetValue(connection)!;
}
