using Mallard.Quic.Connections;
using Mallard.Quic.Tests.TestSupport;
using Mallard.Quic.Transport;

namespace Mallard.Quic.Tests.Connections;

/// <summary>Random and truncated datagrams never throw; a peer that breaks flow control or stream limits gets the right error code.</summary>
public class HostileInputTests
{
    [Fact]
    public void RandomAndTruncatedDatagramsAreDroppedWithoutHarm()
    {
        using var network = new VirtualNetwork(11);
        var captured = new List<byte[]>();
        network.Drop = (_, datagram) =>
        {
            captured.Add(datagram.ToArray()); // a copy: the receiver decrypts the original in place
            return false;
        };
        Connection client = network.Connect();
        Assert.True(network.RunUntil(() => client.HandshakeConfirmed));
        var random = new Random(12);

        // Every prefix of every real datagram, and random bytes of every length, at both endpoints.
        foreach (byte[] datagram in captured.Take(12))
        {
            for (int length = 0; length < datagram.Length; length++)
            {
                network.Server.Receive(network.Now, VirtualNetwork.ClientAddress, datagram[..length]);
                network.ClientEndpoint.Receive(network.Now, VirtualNetwork.ServerAddress, datagram[..length]);
            }
        }

        for (int i = 0; i < 20_000; i++)
        {
            byte[] noise = new byte[random.Next(0, 1500)];
            random.NextBytes(noise);
            network.Server.Receive(network.Now, VirtualNetwork.ClientAddress, noise);
            network.ClientEndpoint.Receive(network.Now, VirtualNetwork.ServerAddress, noise.ToArray());
        }

        // The connection is unharmed and still carries data.
        Assert.True(client.State == ConnectionState.Established, $"{client.Error} resets={network.Server.StatelessResetsSent} server={network.ServerConnection?.State} conns={network.Server.Connections.Count}");
        Assert.True(network.ServerConnection!.State == ConnectionState.Established, network.ServerConnection.Error?.ToString());
        Assert.True(client.TryOpenStream(true, out ulong id));
        client.WriteStream(id, "GET /x\r\n"u8, fin: true);
        var server = new ConnectionTests.EchoServer(network, 5_000);
        Assert.True(network.RunUntil(() =>
        {
            server.Serve();
            network.Flush();
            client.ReadStream(network.Now, id, new byte[8192], out bool finished);
            return finished;
        }));
    }

    [Fact]
    public void DataBeyondTheStreamWindowIsFlowControlError()
    {
        using var network = new VirtualNetwork();
        Connection client = network.Connect();
        Assert.True(network.RunUntil(() => client.HandshakeConfirmed));
        Assert.True(client.TryOpenStream(true, out ulong id));

        // A misbehaving client ignores the server's MAX_STREAM_DATA (256 KiB).
        client.GetStream(id)!.Send!.RaisePeerLimit(ulong.MaxValue);
        client.WriteStream(id, new byte[300 * 1024], fin: false);
        network.Flush();
        Assert.True(network.RunUntil(() => client.State != ConnectionState.Established));
        Assert.Equal((ulong)TransportErrorCode.FlowControlError, network.ServerConnection!.Error!.Code);
        Assert.True(client.Error!.ByPeer);
        Assert.Equal((ulong)TransportErrorCode.FlowControlError, client.Error.Code);
    }

    [Fact]
    public void DataBeyondTheConnectionWindowIsFlowControlError()
    {
        using var network = new VirtualNetwork();
        Connection client = network.Connect();
        Assert.True(network.RunUntil(() => client.HandshakeConfirmed));

        // Five streams of 250 KiB each fit their stream windows but not the 1 MiB connection window.
        client.FlowControl.RaisePeerLimit(ulong.MaxValue); // a client that ignores the server's MAX_DATA
        for (int i = 0; i < 5; i++)
        {
            Assert.True(client.TryOpenStream(true, out ulong id));
            client.WriteStream(id, new byte[250 * 1024], fin: false);
        }

        network.Flush();
        Assert.True(network.RunUntil(() => client.State != ConnectionState.Established));
        Assert.Equal((ulong)TransportErrorCode.FlowControlError, network.ServerConnection!.Error!.Code);
    }

    [Fact]
    public void OpeningMoreStreamsThanAllowedIsStreamLimitError()
    {
        using var network = new VirtualNetwork();
        Connection client = network.Connect();
        Assert.True(network.RunUntil(() => client.HandshakeConfirmed));
        client.BidirectionalStreams.RaisePeerLimit(1000); // a client that ignores the server's MAX_STREAMS
        for (int i = 0; i <= 100; i++)
        {
            Assert.True(client.TryOpenStream(true, out ulong id));
            client.WriteStream(id, "x"u8, fin: true);
        }

        network.Flush();
        Assert.True(network.RunUntil(() => client.State != ConnectionState.Established));
        Assert.Equal((ulong)TransportErrorCode.StreamLimitError, network.ServerConnection!.Error!.Code);
    }
}
