using System.Net;
using Mallard.Balancer.Configuration;
using Mallard.Balancer.Health;
using Mallard.Balancer.Routing;
using Mallard.Balancer.Tests.TestSupport;

namespace Mallard.Balancer.Tests.Routing;

public class PacketRouterTests
{
    private static readonly BalancerSettings Golden = TestSettings.FromFile("Routing/golden-balancer.json");
    private static readonly byte[] ServerA = Convert.FromHexString("00414141410102030405060708");

    [Fact]
    public void AConnectionIdOfADownBackendFallsBackAndNewFlowsAvoidIt()
    {
        BackendHealth[] health = [new(), new(), new()];
        health[0].ReportFailure(1, "test", DateTimeOffset.UnixEpoch);
        PacketRouter router = PacketRouterGoldenTests.CreateRouter(Golden, health);

        for (int port = 1; port < 500; port++)
        {
            var client = EndpointKey.From(new IPEndPoint(IPAddress.Parse("192.0.2.77"), port));
            RouteDecision decision = router.Route(Packets.Short(ServerA), client, 1);
            Assert.Equal(RouteBranch.FallbackClientAddress, decision.Branch);
            Assert.NotEqual("127.0.0.1:4434", decision.Backend!.Name);
        }

        Assert.Equal(499, router.Counters.Unroutable[(int)UnroutableCause.BackendDown]);
    }

    [Fact]
    public void WhenEveryBackendIsDownNewFlowsFailOpenToAllOfThem()
    {
        BackendHealth[] health = [new(), new(), new()];
        foreach (BackendHealth state in health)
        {
            state.ReportFailure(1, "test", DateTimeOffset.UnixEpoch);
        }

        PacketRouter router = PacketRouterGoldenTests.CreateRouter(Golden, health);
        var seen = new HashSet<string>();
        for (int port = 1; port < 200; port++)
        {
            RouteDecision decision = router.Route(Packets.Short(ServerA), EndpointKey.From(new IPEndPoint(IPAddress.Parse("192.0.2.76"), port)), 1);
            Assert.Equal(RouteBranch.FallbackClientAddress, decision.Branch);
            seen.Add(decision.Backend!.Name);
        }

        Assert.Equal(3, seen.Count);
    }

    [Fact]
    public void RoutingByClientAddressIgnoresConnectionIds()
    {
        PacketRouter router = PacketRouterGoldenTests.CreateRouter(Golden with { RouteBy = RouteBy.ClientAddress });
        var seen = new HashSet<string>();
        for (int port = 1; port < 200; port++)
        {
            var client = EndpointKey.From(new IPEndPoint(IPAddress.Parse("192.0.2.78"), port));
            RouteDecision decision = router.Route(Packets.Short(ServerA), client, 1);
            Assert.Equal(RouteBranch.FallbackClientAddress, decision.Branch);
            seen.Add(decision.Backend!.Name);
        }

        // The same connection ID from 199 ports lands on every backend: what a 4-tuple balancer does to a moving client.
        Assert.Equal(3, seen.Count);
    }

    [Fact]
    public void TableEntriesExpireAfterTheIdleTimeout()
    {
        PacketRouter router = PacketRouterGoldenTests.CreateRouter(Golden);
        var client = EndpointKey.From(IPEndPoint.Parse("192.0.2.79:1"));
        byte[] unroutable = Packets.FromFixture("40 00444444440102030405060708 ...40");

        Assert.Equal(RouteBranch.FallbackClientAddress, router.Route(unroutable, client, 0).Branch);
        Assert.Equal(RouteBranch.ClientAddressTable, router.Route(unroutable, client, 29_000).Branch);
        Assert.Equal(1, router.Sweep(29_000 + 30_001));
        Assert.Equal(0, router.TableEntries);
        Assert.Equal(RouteBranch.FallbackClientAddress, router.Route(unroutable, client, 70_000).Branch);
    }

    [Fact]
    public void FullTablesStillRouteByHash()
    {
        BalancerSettings tiny = Golden with { Fallback = Golden.Fallback with { MaxTableEntries = 2 } };
        PacketRouter router = PacketRouterGoldenTests.CreateRouter(tiny);
        byte[] unroutable = Packets.FromFixture("40 00444444440102030405060708 ...40");
        for (int port = 1; port <= 10; port++)
        {
            Assert.False(router.Route(unroutable, EndpointKey.From(new IPEndPoint(IPAddress.Loopback, port)), 1).IsDropped);
        }

        Assert.Equal(2, router.TableEntries);
        Assert.Equal(8, router.TableOverflows);
    }

    [Fact]
    public void EveryTruncatedPrefixOfValidPacketsIsHandled()
    {
        PacketRouter router = PacketRouterGoldenTests.CreateRouter(Golden);
        var client = EndpointKey.From(IPEndPoint.Parse("192.0.2.80:1"));
        byte[][] valid =
        [
            Packets.Short(ServerA),
            Packets.Initial(Convert.FromHexString("a1b2c3d4e5f60718"), Convert.FromHexString("0102030405060708")),
            Packets.Long(2, ServerA, Convert.FromHexString("0102"), 100),
            Packets.FromFixture("80 00000000 08 0041414141010203 08 5c5c5c5c5c5c5c5c 00000001"),
        ];
        foreach (byte[] packet in valid)
        {
            for (int length = 0; length <= packet.Length; length++)
            {
                RouteDecision decision = router.Route(packet.AsSpan(0, length), client, length);
                Assert.True(decision.IsDropped || decision.Backend is not null);
            }
        }
    }

    [Fact]
    public void AMillionRandomDatagramsNeverThrowAndAreAllCounted()
    {
        PacketRouter router = PacketRouterGoldenTests.CreateRouter(Golden);
        var random = new Random(2026);
        byte[] buffer = new byte[1300];
        const int Count = 1_000_000;
        for (int i = 0; i < Count; i++)
        {
            int length = (i % 4) switch
            {
                0 => random.Next(0, 21),
                1 => random.Next(21, 64),
                2 => random.Next(1200, 1300),
                _ => random.Next(0, 1300),
            };
            random.NextBytes(buffer.AsSpan(0, length));
            if (i % 8 == 0 && length > 6)
            {
                // A QUIC v1 long header with random connection ID lengths, often over 20 octets.
                buffer[0] |= 0x80;
                buffer[1] = 0;
                buffer[2] = 0;
                buffer[3] = 0;
                buffer[4] = 1;
            }

            router.Route(buffer.AsSpan(0, length), EndpointKey.From(new IPEndPoint(IPAddress.Loopback, i & 0xffff)), i / 1000);
        }

        Assert.Equal(Count, router.Counters.Branches.Sum());
        Assert.True(router.Counters.Branches[(int)RouteBranch.Malformed] > Count / 4);
    }
}
