using System.Globalization;
using System.Net;
using Mallard.Balancer.Configuration;
using Mallard.Balancer.Health;
using Mallard.Balancer.Metrics;
using Mallard.Balancer.Routing;
using Mallard.Balancer.Tests.TestSupport;

namespace Mallard.Balancer.Tests.Routing;

/// <summary>
/// Packet in, decision out, for every branch of draft-21's forwarding rules, from
/// golden-routing.txt. The fallback choices are recorded: a change to hashing or Maglev that moves
/// them would make balancers of different versions disagree, so it must show up here.
/// </summary>
public class PacketRouterGoldenTests
{
    [Fact]
    public void EveryFixtureRoutesAsRecorded()
    {
        PacketRouter router = CreateRouter(TestSettings.FromFile("Routing/golden-balancer.json"));
        var failures = new List<string>();
        long now = 1_000;
        int count = 0;
        foreach (string line in File.ReadLines(Path.Combine(AppContext.BaseDirectory, "Routing", "golden-routing.txt")))
        {
            if (line.StartsWith('#') || string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            string[] fields = [.. line.Split('|').Select(f => f.Trim())];
            byte[] packet = Packets.FromFixture(fields[2]);
            var client = EndpointKey.From(IPEndPoint.Parse(fields[1]));
            RouteDecision decision = router.Route(packet, client, now++);
            string branch = BalancerMetrics.TagOf(decision.Branch);
            string backend = decision.Backend?.Name ?? "-";
            if (branch != fields[3] || backend != fields[4])
            {
                failures.Add($"{fields[0]}: got {branch} | {backend}; expected {fields[3]} | {fields[4]}");
            }

            count++;
        }

        Assert.True(count >= 25, $"only {count} fixtures read");
        Assert.True(failures.Count == 0, string.Join('\n', failures));
    }

    [Fact]
    public void CountsEveryBranchAndUnroutableCause()
    {
        PacketRouter router = CreateRouter(TestSettings.FromFile("Routing/golden-balancer.json"));
        var client = EndpointKey.From(IPEndPoint.Parse("192.0.2.1:5000"));
        router.Route(Packets.FromFixture("40 00414141410102030405060708 ...40"), client, 1);
        router.Route(Packets.FromFixture("40 00444444440102030405060708 ...40"), client, 2);
        router.Route(Packets.FromFixture("40 e0444444440102030405060708 ...40"), client, 3);
        router.Route(Packets.FromFixture("40 a0444444440102030405060708 ...40"), client, 4);
        router.Route(Packets.FromFixture("40 00"), client, 5);

        RoutingCounters counters = router.Counters;
        Assert.Equal(1, counters.Branches[(int)RouteBranch.ConnectionId]);
        Assert.Equal(1, counters.RoutedByConfig[0]);
        Assert.Equal(1, counters.Branches[(int)RouteBranch.FallbackClientAddress]);
        Assert.Equal(2, counters.Branches[(int)RouteBranch.ClientAddressTable]);
        Assert.Equal(1, counters.Branches[(int)RouteBranch.Malformed]);
        Assert.Equal(1, counters.Unroutable[(int)UnroutableCause.UnknownServerId]);
        Assert.Equal(1, counters.Unroutable[(int)UnroutableCause.UnroutableConfigId]);
        Assert.Equal(1, counters.Unroutable[(int)UnroutableCause.UnknownConfigId]);
    }

    internal static PacketRouter CreateRouter(BalancerSettings settings, IEnumerable<BackendHealth>? health = null)
    {
        BackendHealth[] states = health?.ToArray() ?? [.. settings.Backends.Select(_ => new BackendHealth())];
        var backends = settings.Backends.Select((b, i) => new Backend(b, states[i], new BackendCounters())).ToList();
        return new PacketRouter(new RoutingState(new RoutingSnapshot(settings, backends, 1)));
    }

    internal static string Describe(RouteDecision decision) =>
        string.Create(CultureInfo.InvariantCulture, $"{decision.Branch} -> {decision.Backend?.Name ?? "-"}");
}
