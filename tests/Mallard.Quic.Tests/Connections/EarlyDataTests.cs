using System.Security.Cryptography;
using System.Text;
using Mallard.Quic.Connections;
using Mallard.Quic.Frames;
using Mallard.Quic.Tests.TestSupport;
using Mallard.Quic.Tls;
using Mallard.Quic.Transport;

namespace Mallard.Quic.Tests.Connections;

/// <summary>
/// 0-RTT between Mallard's client and server over the virtual network (RFC 9001 section 4.6, RFC
/// 9000 section 7.4.1): early data in the first flight, read before the handshake completes and
/// answered at once; refused (by the server's configuration, a HelloRetryRequest, a replay, a stale
/// ticket age) and then sent again in 1-RTT; frames 0-RTT may not carry; limits a server must keep.
/// </summary>
public class EarlyDataTests
{
    private static readonly byte[] Request = Encoding.ASCII.GetBytes("GET /early\r\n");

    [Fact]
    public void EarlyDataIsReadBeforeTheHandshakeCompletesAndAnsweredAtOnce()
    {
        byte[] key = RandomNumberGenerator.GetBytes(64);
        var guard = new EarlyDataReplayGuard();
        SessionTicket ticket = FirstTicket(key, guard);
        Assert.True(ticket.AllowsEarlyData);

        using var network = new VirtualNetwork(server: ServerOptions(guard), client: ClientOptions(ticket), serverKey: key);
        Connection client = network.Connect(beforeFirstFlight: SendRequest);
        Assert.True(client.EarlyDataOffered);

        // One one-way delay later the server has the request, a round trip before the client's Finished.
        ulong streamId = 0;
        Assert.True(network.RunUntil(() => network.ServerConnection?.TryAcceptStream(out streamId) == true, 15_000));
        Connection server = network.ServerConnection!;
        Assert.False(server.HandshakeComplete);
        Assert.True(server.EarlyDataAccepted);
        Assert.True(server.ApplicationDataAllowed);
        Assert.Equal(Request, ReadAll(network, server, streamId));

        server.WriteStream(streamId, "answer"u8, fin: true); // 0.5-RTT
        network.Flush();
        Assert.True(network.RunUntil(() => client.HandshakeConfirmed && server.HandshakeConfirmed));
        Assert.True(client.EarlyDataAccepted && client.IsResumed);
        Assert.True(client.ZeroRttPacketsSent > 0);
        Assert.Equal(client.ZeroRttPacketsSent, server.ZeroRttPacketsReceived);
        Assert.True(network.RunUntil(() => client.GetStream(0)?.Receive?.IsAllReceived == true, 1_000_000));
        Assert.Equal("answer"u8.ToArray(), ReadAll(network, client, 0));
        Assert.Equal(1, guard.Accepted);
    }

    public static TheoryData<string> Refusals => ["server takes no 0-RTT", "HelloRetryRequest", "replayed", "ticket age far off", "limits lowered"];

    [Theory]
    [MemberData(nameof(Refusals))]
    public void RefusedEarlyDataIsSentAgainInOneRtt(string why)
    {
        byte[] key = RandomNumberGenerator.GetBytes(64);
        var guard = new EarlyDataReplayGuard();
        SessionTicket ticket = FirstTicket(key, guard);
        ConnectionOptions server = why switch
        {
            "server takes no 0-RTT" => VirtualNetwork.ServerOptions(),
            "HelloRetryRequest" => ServerOptions(guard) with { Groups = [KeyExchange.Secp256r1Group] },
            "limits lowered" => ServerOptions(guard) with { LocalParameters = Lowered(VirtualNetwork.Parameters()) },
            _ => ServerOptions(guard),
        };
        var wall = new SettableTimeProvider(DateTimeOffset.UtcNow.AddSeconds(why == "ticket age far off" ? 30 : 0));
        if (why == "replayed")
        {
            // The same ClientHello (same binder) was accepted here before: an attacker replays the capture.
            using var original = new VirtualNetwork(server: ServerOptions(guard), client: ClientOptions(ticket), serverKey: key);
            byte[]? firstFlight = null;
            original.Drop = (toServer, datagram) => { firstFlight ??= toServer ? datagram.ToArray() : null; return false; };
            Connection first = original.Connect(beforeFirstFlight: SendRequest);
            Assert.True(original.RunUntil(() => first.HandshakeConfirmed && first.EarlyDataAccepted));

            using var replay = new VirtualNetwork(server: ServerOptions(guard), serverKey: key);
            replay.InjectToServer(VirtualNetwork.ClientAddress, firstFlight!);
            Assert.True(replay.RunUntil(() => replay.ServerConnection?.HandshakeComplete == false && replay.Now > 1_100_000, 200_000));
            Assert.False(replay.ServerConnection!.EarlyDataAccepted);
            Assert.Equal(0, replay.ServerConnection.ZeroRttPacketsReceived);
            Assert.False(replay.ServerConnection.TryAcceptStream(out _));
            Assert.Equal(1, guard.Replays);
            return;
        }

        using var network = new VirtualNetwork(server: server, client: ClientOptions(ticket), serverKey: key);
        network.Server.WallClock = wall;
        Connection client = network.Connect(beforeFirstFlight: SendRequest);
        Assert.True(network.RunUntil(() => client.HandshakeConfirmed), client.Error?.ToString());
        Connection accepted = network.ServerConnection!;
        Assert.True(client.EarlyDataRejected);
        Assert.False(client.EarlyDataAccepted || accepted.EarlyDataAccepted);
        Assert.True(client.ZeroRttPacketsSent > 0);
        Assert.Equal(0, accepted.ZeroRttPacketsReceived);
        if (why == "limits lowered")
        {
            // The remembered 100 streams no longer hold: the server's new 50 replace them (RFC 9000 section 7.4.1).
            Assert.InRange(client.BidirectionalStreams.PeerLimit, 50UL, 51UL);
        }

        ulong streamId = 0;
        Assert.True(network.RunUntil(() => accepted.TryAcceptStream(out streamId), 1_000_000));
        Assert.True(network.RunUntil(() => accepted.GetStream(streamId)?.Receive?.IsAllReceived == true, 1_000_000));
        Assert.Equal(Request, ReadAll(network, accepted, streamId));
        Assert.Equal(why == "ticket age far off" ? 1 : 0, guard.NotFresh);
    }

    [Fact]
    public void ARefusedDatagramIsReportedLost()
    {
        byte[] key = RandomNumberGenerator.GetBytes(64);
        var guard = new EarlyDataReplayGuard();
        SessionTicket ticket = FirstTicket(key, guard, datagrams: true);
        using var network = new VirtualNetwork(server: VirtualNetwork.ServerOptions() with { LocalParameters = WithDatagrams(VirtualNetwork.Parameters()) }, client: ClientOptions(ticket) with { LocalParameters = WithDatagrams(VirtualNetwork.Parameters()) }, serverKey: key);
        ulong id = 0;
        Connection client = network.Connect(beforeFirstFlight: c => Assert.Equal(DatagramQueueResult.Queued, c.QueueDatagram("quack"u8, track: true, out id)));
        Assert.True(network.RunUntil(() => client.HandshakeConfirmed));
        Assert.True(client.TryTakeDatagramOutcome(out ulong reported, out QuicDatagramDelivery delivery));
        Assert.Equal((id, QuicDatagramDelivery.Lost), (reported, delivery));
        Assert.Equal(0, network.ServerConnection!.DatagramsWaiting);
    }

    [Fact]
    public void AServerThatAcceptsEarlyDataButLowersALimitIsAProtocolViolation()
    {
        // The client remembered a larger initial_max_data than the server now sends, yet the server took the 0-RTT.
        byte[] key = RandomNumberGenerator.GetBytes(64);
        var guard = new EarlyDataReplayGuard();
        SessionTicket ticket = FirstTicket(key, guard);
        TransportParameters remembered = TransportParameters.TryDecode(ticket.ServerTransportParameters, fromServer: true, out _)!;
        remembered.InitialMaxData *= 2;
        SessionTicket inflated = ticket with { ServerTransportParameters = remembered.Encode() };

        using var network = new VirtualNetwork(server: ServerOptions(guard), client: ClientOptions(inflated), serverKey: key);
        Connection client = network.Connect(beforeFirstFlight: SendRequest);
        Assert.True(network.RunUntil(() => client.State is ConnectionState.Closing or ConnectionState.Closed or ConnectionState.Draining));
        Assert.Equal((ulong)TransportErrorCode.ProtocolViolation, client.Error!.Code);
    }

    [Theory]
    [InlineData("ACK")]
    [InlineData("CRYPTO")]
    [InlineData("NEW_TOKEN")]
    [InlineData("HANDSHAKE_DONE")]
    public void AFrameZeroRttMayNotCarryIsAProtocolViolation(string frame)
    {
        byte[] key = RandomNumberGenerator.GetBytes(64);
        var guard = new EarlyDataReplayGuard();
        SessionTicket ticket = FirstTicket(key, guard);
        using var network = new VirtualNetwork(server: ServerOptions(guard), client: ClientOptions(ticket), serverKey: key);
        Connection client = network.Connect();
        Assert.True(network.RunUntil(() => network.ServerConnection?.EarlyDataAccepted == true, 15_000));
        byte[] packet = PacketForge.ZeroRtt(client, (ref FrameWriter w) =>
        {
            switch (frame)
            {
                case "ACK":
                    w.Ack([(0UL, 0UL)], 0);
                    break;
                case "CRYPTO":
                    w.Crypto(0, [1, 2, 3]);
                    break;
                case "NEW_TOKEN":
                    w.NewToken([1, 2, 3]);
                    break;
                default:
                    w.HandshakeDone();
                    break;
            }
        });
        Connection server = network.ServerConnection!;
        server.Receive(network.Now, packet, VirtualNetwork.ClientAddress);
        Assert.Equal(ConnectionState.Closing, server.State);
        Assert.Equal((ulong)TransportErrorCode.ProtocolViolation, server.Error!.Code);
    }

    [Fact]
    public void ATicketCarriesEarlyDataOnlyFromAServerThatTakesIt()
    {
        byte[] key = RandomNumberGenerator.GetBytes(64);
        SessionTicket without = FirstTicket(key, guard: null);
        Assert.False(without.AllowsEarlyData);

        // Offered with such a ticket, the client sends no early_data and waits for the handshake.
        using var network = new VirtualNetwork(client: ClientOptions(without), serverKey: key);
        Connection client = network.Connect(beforeFirstFlight: c => Assert.False(c.TryOpenStream(true, out _)));
        Assert.False(client.EarlyDataOffered);
        Assert.True(network.RunUntil(() => client.HandshakeConfirmed));
        Assert.True(client.IsResumed);
        Assert.Equal(0, client.ZeroRttPacketsSent);
    }

    private static void SendRequest(Connection client)
    {
        Assert.True(client.TryOpenStream(bidirectional: true, out ulong id));
        client.WriteStream(id, Request, fin: true);
    }

    private static ConnectionOptions ServerOptions(EarlyDataReplayGuard? guard) => VirtualNetwork.ServerOptions() with { EarlyDataGuard = guard };

    private static ConnectionOptions ClientOptions(SessionTicket ticket) => VirtualNetwork.DefaultClientOptions() with { ResumeWith = ticket, OfferEarlyData = true };

    private static TransportParameters Lowered(TransportParameters parameters)
    {
        parameters.InitialMaxStreamsBidi = 50;
        return parameters;
    }

    private static TransportParameters WithDatagrams(TransportParameters parameters)
    {
        parameters.MaxDatagramFrameSize = 1200;
        return parameters;
    }

    /// <summary>A full handshake with a server sharing <paramref name="key"/>; the ticket the client keeps.</summary>
    private static SessionTicket FirstTicket(byte[] key, EarlyDataReplayGuard? guard, bool datagrams = false)
    {
        ConnectionOptions server = ServerOptions(guard);
        ConnectionOptions client = VirtualNetwork.DefaultClientOptions();
        if (datagrams)
        {
            server = server with { LocalParameters = WithDatagrams(VirtualNetwork.Parameters()) };
            client = client with { LocalParameters = WithDatagrams(VirtualNetwork.Parameters()) };
        }

        using var network = new VirtualNetwork(server: server, client: client, serverKey: key);
        Connection connection = network.Connect();
        Assert.True(network.RunUntil(() => connection.ReceivedTicket is not null));
        return connection.ReceivedTicket!;
    }

    private static byte[] ReadAll(VirtualNetwork network, Connection connection, ulong streamId)
    {
        var received = new List<byte>();
        byte[] buffer = new byte[4096];
        int read;
        while ((read = connection.ReadStream(network.Now, streamId, buffer, out _)) > 0)
        {
            received.AddRange(buffer.AsSpan(0, read));
        }

        return [.. received];
    }
}
