using System.Buffers.Binary;
using Mallard.Quic.Connections;
using Mallard.Quic.Tests.TestSupport;
using Mallard.Quic.Transport;

namespace Mallard.Quic.Tests.Connections;

/// <summary>
/// DATAGRAMs stay real-time beside a bulk transfer in the same connection (issue 12): they lead
/// packets, the paced sender keeps the path's queue short, and one that waited too long is dropped
/// rather than sent late. Virtual time, so latencies here are exact and deterministic.
/// </summary>
public class RealTimeDatagramTests
{
    [Theory]
    [InlineData(QuicCongestionControl.Cubic)]
    [InlineData(QuicCongestionControl.NewReno)]
    public void ADatagramCrossesASaturatedBottleneckWithinAFewRoundTrips(QuicCongestionControl control)
    {
        // A 40 Mbit/s link with a 20 ms round trip and a queue of one bandwidth-delay product (20 ms).
        using VirtualNetwork network = Negotiated(seed: 12, control);
        network.BottleneckBytesPerSecond = 5_000_000;
        network.BottleneckQueueBytes = 100_000;
        const long rtt = 20_000;

        // The server streams 4 MB and sends a stamped datagram every 5 ms beside it.
        var latencies = new List<long>();
        long nextDatagram = 0;
        Connection? server = null;
        byte[] response = ConnectionTests.Transfer(network, 4_000_000, onStep: () =>
        {
            server = network.ServerConnection;
            if (server?.HandshakeComplete != true || network.Client is not { } client)
            {
                return;
            }

            if (network.Now >= nextDatagram)
            {
                byte[] stamp = new byte[64];
                BinaryPrimitives.WriteInt64LittleEndian(stamp, network.Now);
                server.QueueDatagram(stamp, track: false, out _);
                nextDatagram = network.Now + 5_000;
            }

            while (client.TryReadDatagram(out byte[] payload))
            {
                latencies.Add(network.Now - BinaryPrimitives.ReadInt64LittleEndian(payload));
            }
        });

        Assert.Equal(4_000_000, response.Length);
        Assert.True(network.BottleneckDrops > 0, "the download never filled the bottleneck's queue");
        Assert.True(latencies.Count > 100, $"only {latencies.Count} datagrams arrived");

        // One-way delay is 10 ms and the full queue adds 20 ms: a loss-based controller keeps it
        // between half and full. Datagrams add nothing of their own on top — they never wait behind
        // the sender's backlog of stream data, which would add a window's worth (another 40 ms) —
        // so the median stays within two round trips and no datagram takes more than three.
        latencies.Sort();
        long median = latencies[latencies.Count / 2];
        Assert.True(median <= 2 * rtt, $"median one-way latency {median / 1000.0} ms");
        Assert.True(latencies[^1] <= 3 * rtt, $"slowest datagram {latencies[^1] / 1000.0} ms");
        Assert.Equal(0, server!.Datagrams.Expired);
    }

    [Fact]
    public void ADatagramOlderThanItsMaximumAgeIsDroppedUnsentAndReportedExpired()
    {
        using VirtualNetwork network = Negotiated(seed: 13, datagramMaxAge: 30_000);
        Connection client = Established(network);
        Connection server = network.ServerConnection!;

        // The path goes dark: nothing the client sends arrives, and its window fills.
        network.LossRate = 1;
        int queued = 0;
        while (client.QueueDatagram(new byte[client.MaxDatagramPayload], track: true, out _) == DatagramQueueResult.Queued)
        {
            queued++;
        }

        network.Flush();
        long sentWhileDark = client.Datagrams.Sent;
        Assert.True(sentWhileDark < queued, "the window did not hold any back");

        // 40 ms later the path is back; what waited longer than 30 ms is dropped, not sent.
        network.RunUntil(() => false, 40_000);
        network.LossRate = 0;
        Assert.True(network.RunUntil(() => client.Datagrams.Sent + client.Datagrams.Expired == queued, 2_000_000));

        Assert.Equal(queued - sentWhileDark, client.Datagrams.Expired);
        Assert.Equal(sentWhileDark, client.Datagrams.Sent);
        var outcomes = new List<QuicDatagramDelivery>();
        while (client.TryTakeDatagramOutcome(out _, out QuicDatagramDelivery delivery))
        {
            outcomes.Add(delivery);
        }

        Assert.Equal(queued - sentWhileDark, outcomes.Count(d => d == QuicDatagramDelivery.Expired));
        Assert.Equal(0, server.DatagramsWaiting);
    }

    [Fact]
    public void APerDatagramMaximumAgeOverridesTheConnectionsDefault()
    {
        using VirtualNetwork network = Negotiated(seed: 14);
        Connection client = Established(network);
        network.LossRate = 1;
        while (client.QueueDatagram(new byte[client.MaxDatagramPayload], track: false, out _) == DatagramQueueResult.Queued)
        {
        }

        network.Flush();
        Assert.Equal(DatagramQueueResult.Queued, client.QueueDatagram([1], 0, network.Now, maxAge: 1_000));
        network.RunUntil(() => false, 5_000);
        network.LossRate = 0;

        // Everything queued without an age waits for the window; the one with 1 ms expires.
        Assert.True(network.RunUntil(() => client.Datagrams.Expired == 1, 2_000_000));
        Assert.Equal(1, client.Datagrams.Expired);
    }

    [Fact]
    public void WithDatagramsFirstAFloodStillLeavesTheStreamOnePacketInEight()
    {
        // Fair turns are the other test class's subject; here the default lets streams through too.
        using VirtualNetwork network = Negotiated(seed: 15);
        byte[] response = ConnectionTests.Transfer(network, 100_000, onStep: () =>
        {
            if (network.ServerConnection is { HandshakeComplete: true } server)
            {
                while (server.QueueDatagram(new byte[server.MaxDatagramPayload], track: false, out _) == DatagramQueueResult.Queued)
                {
                }
            }
        });

        Assert.Equal(100_000, response.Length);
        Connection flooded = network.ServerConnection!;
        Assert.True(flooded.Datagrams.Sent > 4 * (100_000 / flooded.MaxDatagramPayload), $"datagrams did not lead: {flooded.Datagrams.Sent} sent");
    }

    /// <summary>Datagrams negotiated, stream windows wide enough that flow control never limits the download, and the given controller and maximum age.</summary>
    private static VirtualNetwork Negotiated(int seed, QuicCongestionControl control = QuicCongestionControl.Cubic, long datagramMaxAge = 0) =>
        DatagramTests.Negotiated(seed, configure: options =>
        {
            TransportParameters parameters = options.LocalParameters.Clone();
            parameters.InitialMaxData = 16 << 20;
            parameters.InitialMaxStreamDataBidiLocal = 8 << 20;
            parameters.InitialMaxStreamDataBidiRemote = 8 << 20;
            return options with { LocalParameters = parameters, CongestionControl = control, DatagramMaxAge = datagramMaxAge };
        });

    private static Connection Established(VirtualNetwork network) => DatagramTests.Established(network);
}
