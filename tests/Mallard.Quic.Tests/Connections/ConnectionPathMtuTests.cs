using System.Net;
using Mallard.Quic.Connections;
using Mallard.Quic.Tests.TestSupport;

namespace Mallard.Quic.Tests.Connections;

/// <summary>
/// Path MTU discovery inside a connection, in virtual time (RFC 9000 section 14.3, RFC 8899): a
/// path that silently drops datagrams above a size, a path whose MTU falls in the middle of a
/// transfer, a new path, and discovery switched off.
/// </summary>
public class ConnectionPathMtuTests
{
    [Theory]
    [InlineData(1_452)]
    [InlineData(1_400)]
    [InlineData(1_280)]
    [InlineData(1_230)]
    public void BothSidesFindWhatThePathCarriesAndNeverSendMoreExceptProbes(int pathMtu)
    {
        int tooLarge = 0;
        using var network = new VirtualNetwork(41) { Drop = (_, datagram) => datagram.Length > pathMtu && ++tooLarge > 0 };
        byte[] response = ConnectionTests.Transfer(network, 300_000);
        Assert.Equal(300_000, response.Length);
        Assert.True(network.RunUntil(() => network.Client!.PathMtuSearchComplete && network.ServerConnection!.PathMtuSearchComplete, 10_000_000));

        foreach (Connection side in (Connection[])[network.Client!, network.ServerConnection!])
        {
            Assert.True(side.PathMtuSearchComplete);
            Assert.InRange(side.PathMtu, Math.Min(pathMtu, 1_452) - PathMtuDiscovery.SearchGranularity + 1, pathMtu);
            Assert.Equal(0, side.PathMtuBlackHoles);
        }

        // Only probes were too large: a few per size given up, on each side.
        Assert.InRange(tooLarge, 0, 2 * PathMtuDiscovery.MaxProbes * 5);
    }

    [Fact]
    public void ALostProbeIsNoCongestionSignal()
    {
        using var network = new VirtualNetwork(42) { Drop = (_, datagram) => datagram.Length > 1_300 };
        ConnectionTests.Transfer(network, 200_000);
        Connection server = network.ServerConnection!;
        Assert.True(network.RunUntil(() => server.PathMtuSearchComplete, 10_000_000));
        Assert.Equal(long.MaxValue, server.SlowStartThreshold); // no loss but probes: never a congestion event
    }

    [Fact]
    public void WhenThePathNarrowsMidTransferTheBlackHoleIsFoundAndTheTransferCompletes()
    {
        int pathMtu = 1_500;
        using var network = new VirtualNetwork(43) { Drop = (_, datagram) => datagram.Length > pathMtu };
        byte[] response = ConnectionTests.Transfer(network, 2_000_000, onStep: () =>
        {
            if (network.BytesToClient > 500_000)
            {
                pathMtu = 1_280; // a tunnel came up on the way
            }
        });

        Assert.Equal(2_000_000, response.Length);
        Connection server = network.ServerConnection!;
        Assert.True(server.PathMtuBlackHoles >= 1, "the server never noticed its large packets vanish");
        Assert.InRange(server.PathMtu, 1_200, 1_280);
    }

    [Fact]
    public void DatagramFramesGrowWithThePath()
    {
        using VirtualNetwork network = DatagramTests.Negotiated();
        Connection client = network.Connect();
        Assert.True(network.RunUntil(() => client.HandshakeConfirmed, 5_000_000));
        int before = client.MaxDatagramPayload;
        Assert.True(network.RunUntil(() => client.PathMtuSearchComplete, 5_000_000));
        Assert.Equal(1_452, client.PathMtu);
        Assert.Equal(before + 252, client.MaxDatagramPayload);
    }

    [Fact]
    public void ANewHostIsProbedFromTheStart()
    {
        using var network = new VirtualNetwork(44);
        int mtuAfterMove = 0;
        byte[] response = ConnectionTests.Transfer(network, 400_000, onStep: () =>
        {
            Connection? server = network.ServerConnection;
            if (server is { PathMtuSearchComplete: true } && network.DatagramsToClient > 150 && network.CurrentClientAddress == VirtualNetwork.ClientAddress)
            {
                network.CurrentClientAddress = new IPEndPoint(IPAddress.Parse("127.0.0.2"), 50_000).Serialize();
            }

            if (server is { PathMigrations: 1 } && mtuAfterMove == 0)
            {
                mtuAfterMove = server.PathMtu;
            }
        });

        Assert.Equal(400_000, response.Length);
        Assert.Equal(1_200, mtuAfterMove);
        Assert.Equal(1_452, network.ServerConnection!.PathMtu); // and found again
    }

    [Fact]
    public void WithDiscoveryOffTheConfiguredSizeIsUsedUnprobed()
    {
        int largest = 0;
        using var network = new VirtualNetwork(45, client: VirtualNetwork.DefaultClientOptions() with { DiscoverPathMtu = false, MaxUdpPayloadSize = 1_350 })
        {
            Drop = (toServer, datagram) =>
            {
                largest = toServer ? Math.Max(largest, datagram.Length) : largest;
                return false;
            },
        };
        ConnectionTests.Transfer(network, 100_000);
        Assert.Equal(1_350, network.Client!.PathMtu);
        Assert.True(largest <= 1_350, $"the client sent {largest} octets");
    }
}
