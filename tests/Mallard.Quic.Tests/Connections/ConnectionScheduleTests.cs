using System.Net;
using Mallard.Quic.Connections;
using Mallard.Quic.Frames;
using Mallard.Quic.Tests.TestSupport;

namespace Mallard.Quic.Tests.Connections;

/// <summary>The endpoint touches only connections with work: no scan of all connections per datagram or timer.</summary>
public class ConnectionScheduleTests
{
    [Fact]
    public void ADatagramForOneConnectionLeavesTheIdleOnesAlone()
    {
        using var network = new VirtualNetwork();
        Connection client = network.Connect();
        Assert.True(network.RunUntil(() => client.HandshakeConfirmed));

        // 200 half-open connections from forged Initials (no Retry asked), then everything sent.
        network.Server.MaxUnvalidatedHandshakes = 1_000;
        byte[] chunk = new byte[1_000];
        for (int i = 0; i < 200; i++)
        {
            var from = new IPEndPoint(IPAddress.Loopback, 20_000 + i).Serialize();
            network.Server.Receive(network.Now, from, PacketForge.Initial(BitConverter.GetBytes((long)i + 1), [7, 7, 7, 7], 0, (ref FrameWriter w) => w.Crypto(1, chunk)));
        }

        Assert.Equal(201, network.Server.Connections.Count);
        byte[] buffer = new byte[1500];
        while (network.Server.Send(network.Now, buffer, out _) > 0)
        {
        }

        Assert.Equal(0, network.Server.ScheduleSize.Ready);

        // One PING for the established connection: only it is polled.
        network.Server.Receive(network.Now, VirtualNetwork.ClientAddress, PacketForge.OneRtt(client, (ref FrameWriter w) => w.Ping()));
        Assert.Equal(1, network.Server.ScheduleSize.Ready);
        Assert.NotNull(network.Server.NextTimeout);
    }

    [Fact]
    public void AClosedConnectionLeavesNoRoutingKeyBehind()
    {
        using var network = new VirtualNetwork();
        Connection client = network.Connect();
        Assert.True(network.RunUntil(() => client.HandshakeConfirmed && network.ServerConnection?.HandshakeConfirmed == true));
        client.Close(network.Now, 0, "done", application: true);
        network.Flush();
        Assert.True(network.RunUntil(() => network.Server.Connections.Count == 0 && network.ClientEndpoint.Connections.Count == 0));

        foreach (Endpoint endpoint in new[] { network.Server, network.ClientEndpoint })
        {
            var index = (System.Collections.IDictionary)typeof(Endpoint).GetField("_byConnectionId", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance)!.GetValue(endpoint)!;
            Assert.Empty(index);
        }
    }

    [Fact]
    public void TheTimerQueueStaysNearTheNumberOfConnections()
    {
        // Every received packet moves the idle deadline, which re-queues the connection's timer;
        // stale entries are dropped when they outnumber live ones.
        using var network = new VirtualNetwork();
        Connection client = network.Connect();
        Assert.True(network.RunUntil(() => client.HandshakeConfirmed));
        byte[] buffer = new byte[1500];
        for (int i = 0; i < 5_000; i++)
        {
            network.Server.Receive(network.Now + i, VirtualNetwork.ClientAddress, PacketForge.OneRtt(client, (ref FrameWriter w) => w.Ping()));
            while (network.Server.Send(network.Now + i, buffer, out _) > 0)
            {
            }

            Assert.True(network.Server.ScheduleSize.TimerEntries <= (2 * network.Server.Connections.Count) + 65);
        }
    }
}
