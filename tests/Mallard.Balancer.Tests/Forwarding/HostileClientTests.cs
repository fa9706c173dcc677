using System.Net;
using System.Security.Cryptography;
using Mallard.Balancer.Configuration;
using Mallard.Balancer.Tests.TestSupport;

namespace Mallard.Balancer.Tests.Forwarding;

/// <summary>
/// The balancer's hardening findings, black-box: real UDP through a running balancer on loopback,
/// with the data path on a manual clock so the hold time and idle periods are exact.
/// </summary>
public class HostileClientTests
{
    private static readonly byte[] Routable = Packets.Short(Convert.FromHexString("00414141410102030405060708"));

    [Fact]
    public async Task AnAttackerWhoKnowsTheConnectionIdCannotKeepTheClientsReplies()
    {
        // The client idles; an attacker replays its connection ID every 100 ms; the client then
        // makes 40 requests, one every 500 ms. Before, the client got 0 of 40 replies.
        using var a = new UdpTestBackend("A");
        var clock = new ManualClock();
        BalancerSettings settings = TestSettings.Loopback([(a.Endpoint, "41414141")], ("ReturnPath", "per-connection"), ("Health:Enabled", "false"));
        await using LoadBalancer balancer = await RunningBalancer.StartAsync(settings, clock);
        using var client = new TestClient(balancer.ListenEndpoints[0]);
        using var attacker = new TestClient(balancer.ListenEndpoints[0], IPAddress.Parse("127.0.0.2"));
        Assert.Equal("A", client.Exchange(Routable));

        clock.Advance(TimeSpan.FromSeconds(1));
        int answered = 0;
        for (int request = 0; request < 40; request++)
        {
            for (int tick = 0; tick < 5; tick++)
            {
                await SendAndWaitAsync(attacker, a);
                clock.Advance(TimeSpan.FromMilliseconds(100));
            }

            if (client.Exchange(Routable) == "A")
            {
                answered++;
            }
        }

        Assert.Equal(40, answered);
        Assert.True(balancer.ProxyCounters.ReturnPathRegained >= 39, $"regained {balancer.ProxyCounters.ReturnPathRegained}");
    }

    [Fact]
    public async Task OneHostCannotFillTheFlowTableAndJunkFlowsGiveWayToRealOnes()
    {
        // 200 junk packets from 200 ports of one host took all 200 flows; now a host holds at most
        // 50, and when the table is full a flow the backend never answered makes room.
        using var a = new UdpTestBackend("A") { Answers = d => d.AsSpan(1, 5).SequenceEqual(Routable.AsSpan(1, 5)) };
        BalancerSettings settings = TestSettings.Loopback([(a.Endpoint, "41414141")],
            ("Proxy:MaxFlows", "60"), ("Proxy:MaxFlowsPerSourceAddress", "50"), ("Health:Enabled", "false"));
        await using LoadBalancer balancer = await RunningBalancer.StartAsync(settings);

        using var real = new TestClient(balancer.ListenEndpoints[0], IPAddress.Parse("127.0.0.9"));
        Assert.Equal("A", real.Exchange(Routable));

        await FloodAsync(balancer, IPAddress.Loopback, 200);
        Assert.True(await RunningBalancer.EventuallyAsync(() => balancer.ProxyCounters.SourceFlowLimitReached >= 150), $"source limit {balancer.ProxyCounters.SourceFlowLimitReached}, flows {balancer.ProxyCounters.LiveFlows}, backend got {a.Received.Count}");
        Assert.Equal(51, balancer.ProxyCounters.LiveFlows);

        // Nine more hosts flood; the table stays full of junk that gives way, and the answered flow stays.
        for (int host = 2; host <= 8; host++)
        {
            await FloodAsync(balancer, IPAddress.Parse($"127.0.0.{host}"), 30);
        }

        Assert.True(await RunningBalancer.EventuallyAsync(() => balancer.ProxyCounters.FlowsEvicted >= 100), $"evicted {balancer.ProxyCounters.FlowsEvicted}");
        Assert.Equal(0, balancer.ProxyCounters.FlowLimitReached);
        Assert.True(balancer.ProxyCounters.LiveFlows <= 60);
        Assert.Equal("A", real.Exchange(Routable));

        using var newcomer = new TestClient(balancer.ListenEndpoints[0], IPAddress.Parse("127.0.0.10"));
        Assert.Equal("A", newcomer.Exchange(Routable));
    }

    private static async Task SendAndWaitAsync(TestClient sender, UdpTestBackend backend)
    {
        int before = backend.Received.Count;
        sender.Send(Routable);
        Assert.True(await RunningBalancer.EventuallyAsync(() => backend.Received.Count > before));
    }

    /// <summary>Random 21-octet short-header datagrams, each from a new port of <paramref name="host"/>.</summary>
    private static async Task FloodAsync(LoadBalancer balancer, IPAddress host, int count)
    {
        var clients = new List<TestClient>();
        try
        {
            for (int i = 0; i < count; i++)
            {
                var client = new TestClient(balancer.ListenEndpoints[0], host);
                clients.Add(client);
                byte[] junk = RandomNumberGenerator.GetBytes(21);
                junk[0] = (byte)(0x40 | (junk[0] & 0x1f));
                client.Send(junk);
            }

            await Task.Delay(200);
        }
        finally
        {
            clients.ForEach(c => c.Dispose());
        }
    }
}
