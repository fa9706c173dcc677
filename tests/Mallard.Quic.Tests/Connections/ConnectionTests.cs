using System.Security.Cryptography;
using Mallard.Quic.Connections;
using Mallard.Quic.Crypto;
using Mallard.Quic.Tests.TestSupport;
using Mallard.Quic.Transport;

namespace Mallard.Quic.Tests.Connections;

/// <summary>Mallard client against Mallard server over the virtual network: handshake, streams, loss, key update, Retry, close.</summary>
public class ConnectionTests
{
    [Fact]
    public void HandshakeCompletesAndIsConfirmedOnBothSides()
    {
        using var network = new VirtualNetwork();
        Connection client = network.Connect();

        Assert.True(network.RunUntil(() => client.HandshakeConfirmed && network.ServerConnection?.HandshakeConfirmed == true), client.Error?.ToString());
        Assert.Equal(ConnectionState.Established, client.State);
        Assert.Equal("hq-interop", client.ApplicationProtocol);
        Assert.Equal("hq-interop", network.ServerConnection!.ApplicationProtocol);
        Assert.Equal(CipherSuite.Aes128GcmSha256, client.CipherSuite);

        // The client's first datagram is padded to 1200 octets; after confirmation both hold extra connection IDs.
        Assert.True(network.RunUntil(() => client.LocalConnectionIds.Count() == 4 && network.ServerConnection.LocalConnectionIds.Count() == 4, 2_000_000));
        Assert.NotNull(client.ReceivedNewToken);
    }

    [Theory]
    [InlineData((ushort)0x1301)]
    [InlineData((ushort)0x1302)]
    [InlineData((ushort)0x1303)]
    public void EveryCipherSuiteCarriesAStream(ushort suite)
    {
        using var network = new VirtualNetwork(client: VirtualNetwork.DefaultClientOptions() with { CipherSuites = [suite] });
        byte[] response = Transfer(network, 100_000);
        Assert.Equal((CipherSuite)suite, network.Client!.CipherSuite);
        Assert.Equal(100_000, response.Length);
    }

    [Theory]
    [InlineData(1, 0.0, 0)]
    [InlineData(2, 0.05, 0)]
    [InlineData(3, 0.10, 5_000)]
    [InlineData(4, 0.20, 20_000)]
    public void AMegabyteArrivesIntactDespiteLossAndReordering(int seed, double loss, long jitter)
    {
        using var network = new VirtualNetwork(seed) { LossRate = loss, Jitter = jitter };
        byte[] expected = Payload(1_000_000);
        byte[] response = Transfer(network, expected.Length, limit: 600_000_000);
        Assert.Equal(SHA256.HashData(expected), SHA256.HashData(response));
    }

    [Fact]
    public void HandshakeSurvivesLosingTheFirstFlightsInBothDirections()
    {
        int dropped = 0;
        using var network = new VirtualNetwork(5) { Drop = (_, _) => dropped++ < 6 };
        byte[] response = Transfer(network, 10_000);
        Assert.Equal(10_000, response.Length);
        Assert.Equal(6, dropped - (network.DatagramsToServer + network.DatagramsToClient - 6));
    }

    [Fact]
    public void ManyStreamsAtOnceAreMultiplexedBeyondTheInitialStreamLimit()
    {
        using var network = new VirtualNetwork(6);
        Connection client = network.Connect();
        Assert.True(network.RunUntil(() => client.HandshakeConfirmed));
        var server = new EchoServer(network, 2_000);
        var pending = new Queue<int>(Enumerable.Range(0, 300));
        var open = new Dictionary<ulong, List<byte>>();
        int completed = 0;
        Assert.True(network.RunUntil(() =>
        {
            while (pending.Count > 0 && client.TryOpenStream(true, out ulong id))
            {
                pending.Dequeue();
                client.WriteStream(id, "GET /x\r\n"u8, fin: true);
                open[id] = [];
            }

            completed += DrainResponses(network, client, open);
            server.Serve();
            network.Flush();
            return completed == 300;
        }, 120_000_000), $"completed {completed}");
    }

    [Fact]
    public void KeyUpdatesFromEitherSideKeepTheTransferGoing()
    {
        // The client updates every 4 packets it sends (when allowed); the server starts updates too.
        using var network = new VirtualNetwork(7, client: VirtualNetwork.DefaultClientOptions() with { KeyUpdateInterval = 4 });
        int serverInitiated = 0;
        byte[] response = Transfer(network, 2_000_000, limit: 600_000_000, onStep: () =>
        {
            if (network.ServerConnection!.UpdateKeys())
            {
                serverInitiated++;
            }
        });
        Assert.Equal(SHA256.HashData(Payload(2_000_000)), SHA256.HashData(response));
        Assert.True(serverInitiated >= 2, $"{serverInitiated} server-initiated updates");
        Assert.True(network.Client!.KeyUpdates >= 3, $"{network.Client.KeyUpdates} key updates");
        Assert.True(network.ServerConnection!.KeyUpdates >= 1);
    }

    [Fact]
    public void RetryValidatesTheAddressAndTheHandshakeAuthenticatesIt()
    {
        using var network = new VirtualNetwork(8);
        network.Server.RequireRetry = true;
        byte[] response = Transfer(network, 5_000);
        Assert.Equal(5_000, response.Length);
        Assert.Equal(1, network.Server.RetriesSent);
    }

    [Fact]
    public void ClientFailsClearlyWhenTheServerSpeaksNoCommonVersion()
    {
        using var network = new VirtualNetwork();
        Connection client = Connection.CreateClient(network.ClientOptions, VirtualNetwork.ServerAddress, network.Now, version: 0xff00001d);
        byte[] datagram = new byte[1500];
        int length = client.Send(network.Now, datagram);
        network.Server.Receive(network.Now, VirtualNetwork.ClientAddress, datagram.AsSpan(0, length));
        length = network.Server.Send(network.Now, datagram, out _);
        Assert.True(length > 0);
        Assert.Equal(1, network.Server.VersionNegotiationsSent);

        client.Receive(network.Now, datagram.AsSpan(0, length));
        Assert.Equal(ConnectionState.Closed, client.State);
        Assert.Contains("no compatible QUIC version", client.Error!.Reason, StringComparison.Ordinal);
        Assert.Contains("0x00000001", client.Error.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void ApplicationCloseReachesThePeerWithItsCode()
    {
        using var network = new VirtualNetwork();
        Connection client = network.Connect();
        Assert.True(network.RunUntil(() => client.HandshakeConfirmed));
        client.Close(network.Now, 0x42, "bye");
        network.Flush();
        Assert.True(network.RunUntil(() => network.ServerConnection!.State is ConnectionState.Draining or ConnectionState.Closed));
        Assert.Equal(0x42UL, network.ServerConnection!.Error!.Code);
        Assert.True(network.ServerConnection.Error.IsApplication);
        Assert.Equal("bye", network.ServerConnection.Error.Reason);
        Assert.True(network.ServerConnection.Error.ByPeer);
        Assert.True(network.RunUntil(() => network.Server.Connections.Count == 0 && network.ClientEndpoint.Connections.Count == 0));
    }

    [Fact]
    public void IdleConnectionsCloseAfterTheNegotiatedTimeout()
    {
        using var network = new VirtualNetwork();
        Connection client = network.Connect();
        Assert.True(network.RunUntil(() => client.HandshakeConfirmed));
        long confirmed = network.Now;
        Assert.True(network.RunUntil(() => client.State == ConnectionState.Closed, 60_000_000));
        Assert.InRange(network.Now - confirmed, 29_000_000, 31_000_000);
        Assert.Equal("idle timeout", client.Error!.Reason);
    }

    [Fact]
    public void KeepAlivePingsHoldAnIdleConnectionOpenPastTheIdleTimeout()
    {
        using var network = new VirtualNetwork(client: VirtualNetwork.DefaultClientOptions() with { KeepAliveInterval = 5_000_000 });
        Connection client = network.Connect();
        Assert.True(network.RunUntil(() => client.HandshakeConfirmed, 5_000_000));
        int before = network.DatagramsToServer;

        // Two minutes of silence from the application, against a 30 s idle timeout.
        network.RunUntil(() => false, 120_000_000);

        Assert.Equal(ConnectionState.Established, client.State);
        Assert.Equal(ConnectionState.Established, network.ServerConnection!.State);
        Assert.InRange(network.DatagramsToServer - before, 24, 30); // one PING every 5 s
    }

    [Fact]
    public void AStatelessResetFromAServerWithTheSameKeyEndsTheConnection()
    {
        byte[] key = RandomNumberGenerator.GetBytes(64);
        using var network = new VirtualNetwork(serverKey: key);
        Connection client = network.Connect();
        Assert.True(network.RunUntil(() => client.HandshakeConfirmed && client.LocalConnectionIds.Count() == 4));
        Assert.True(client.TryOpenStream(true, out ulong id));
        client.WriteStream(id, "GET /x\r\n"u8, fin: true);
        byte[] datagram = new byte[1500];
        int length = client.Send(network.Now, datagram);
        byte[] request = datagram[..length];

        // A server with another key does not know the token: its reset is ignored.
        using var stranger = new Endpoint(VirtualNetwork.ServerOptions());
        stranger.Receive(network.Now, VirtualNetwork.ClientAddress, request.ToArray());
        length = stranger.Send(network.Now, datagram, out _);
        Assert.InRange(length, 21, request.Length - 1);
        client.Receive(network.Now, datagram.AsSpan(0, length));
        Assert.Equal(ConnectionState.Established, client.State);

        // The server restarted with the same key has lost the connection; its reset ends it (RFC 9000 section 10.3).
        using var restarted = new Endpoint(VirtualNetwork.ServerOptions(), staticKey: key);
        restarted.Receive(network.Now, VirtualNetwork.ClientAddress, request.ToArray());
        Assert.Equal(1, restarted.StatelessResetsSent);
        length = restarted.Send(network.Now, datagram, out _);
        client.Receive(network.Now, datagram.AsSpan(0, length));
        Assert.Equal(ConnectionState.Closed, client.State);
        Assert.Equal("stateless reset", client.Error!.Reason);
    }

    internal static byte[] Payload(int length)
    {
        byte[] data = new byte[length];
        new Random(length).NextBytes(data);
        return data;
    }

    /// <summary>Opens one stream, asks for <paramref name="length"/> octets and returns what arrived.</summary>
    internal static byte[] Transfer(VirtualNetwork network, int length, long limit = 120_000_000, Action? onStep = null)
    {
        Connection client = network.Connect();
        Assert.True(network.RunUntil(() => client.HandshakeComplete, limit), client.Error?.ToString() ?? network.ServerConnection?.Error?.ToString());
        var server = new EchoServer(network, length);
        Assert.True(client.TryOpenStream(true, out ulong id));
        client.WriteStream(id, "GET /file\r\n"u8, fin: true);
        var received = new List<byte>();
        var buffer = new byte[65_536];
        bool finished = false;
        bool done = network.RunUntil(() =>
        {
            onStep?.Invoke();
            server.Serve();
            int read;
            while ((read = client.ReadStream(network.Now, id, buffer, out finished)) > 0)
            {
                received.AddRange(buffer.AsSpan(0, read));
            }

            network.Flush();
            return finished || client.State == ConnectionState.Closed;
        }, limit);
        Assert.True(done && finished, $"received {received.Count} of {length}; client {client.Error}, server {network.ServerConnection?.Error}");
        return [.. received];
    }

    private static int DrainResponses(VirtualNetwork network, Connection client, Dictionary<ulong, List<byte>> open)
    {
        int completed = 0;
        var buffer = new byte[4096];
        foreach ((ulong id, List<byte> data) in open.ToList())
        {
            int read;
            bool finished;
            while ((read = client.ReadStream(network.Now, id, buffer, out finished)) > 0)
            {
                data.AddRange(buffer.AsSpan(0, read));
            }

            if (finished)
            {
                open.Remove(id);
                completed++;
            }
        }

        return completed;
    }

    /// <summary>A server that answers every request stream with <c>length</c> deterministic octets.</summary>
    internal sealed class EchoServer(VirtualNetwork network, int length)
    {
        private readonly byte[] _payload = Payload(length);
        private readonly Dictionary<ulong, bool> _answered = [];

        public void Serve()
        {
            Connection? server = network.ServerConnection;
            if (server is null)
            {
                return;
            }

            while (server.TryAcceptStream(out ulong id))
            {
                _answered[id] = false;
            }

            var buffer = new byte[4096];
            foreach ((ulong id, bool answered) in _answered.ToList())
            {
                if (answered)
                {
                    continue;
                }

                server.ReadStream(network.Now, id, buffer, out bool finished);
                if (finished)
                {
                    server.WriteStream(id, _payload, fin: true);
                    _answered[id] = true;
                }
            }
        }
    }
}
