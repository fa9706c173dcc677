using System.Net;
using System.Net.Sockets;
using Mallard.Balancer.Configuration;
using Mallard.Balancer.Tests.TestSupport;

namespace Mallard.Balancer.Tests.Health;

public class HealthCheckerTests
{
    private static readonly byte[] ToB = Packets.Short(Convert.FromHexString("00424242420102030405060708"));

    [Fact]
    public async Task ABackendThatStopsAnsweringProbesIsTakenOutAndComesBack()
    {
        using var a = new UdpTestBackend("A");
        using var b = new UdpTestBackend("B");
        BalancerSettings settings = TestSettings.Loopback([(a.Endpoint, "41414141"), (b.Endpoint, "42424242")]);
        await using LoadBalancer balancer = await RunningBalancer.StartAsync(settings);
        using var client = new TestClient(balancer.ListenEndpoints[0]);
        Assert.True(await RunningBalancer.EventuallyAsync(() => Volatile.Read(ref b.ProbesAnswered) >= 2, 15_000));
        Assert.Equal("B", client.Exchange(ToB));

        b.AnswerProbes = false;
        // Generous bounds: on a loaded 2-core CI machine timers and probes run late.
        Assert.True(await RunningBalancer.EventuallyAsync(() => !balancer.Backends[1].Health.IsUp, 15_000));
        Assert.StartsWith("no Version Negotiation", balancer.Backends[1].Health.LastFailure, StringComparison.Ordinal);

        // B's connection IDs are unroutable while it is down; the fallback has only A.
        using var other = new TestClient(balancer.ListenEndpoints[0]);
        Assert.Equal("A", other.Exchange(ToB));
        Assert.True(balancer.GetStatus().Unroutable["backend_down"] >= 1);

        b.AnswerProbes = true;
        Assert.True(await RunningBalancer.EventuallyAsync(() => balancer.Backends[1].Health.IsUp, 15_000));
        using var third = new TestClient(balancer.ListenEndpoints[0]);
        Assert.Equal("B", third.Exchange(ToB));
    }

    [Fact]
    public async Task ABackendWithNothingListeningIsMarkedDown()
    {
        using var a = new UdpTestBackend("A");
        IPEndPoint closed;
        using (var probe = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp))
        {
            probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            closed = (IPEndPoint)probe.LocalEndPoint!;
        }

        BalancerSettings settings = TestSettings.Loopback([(a.Endpoint, "41414141"), (closed, "42424242")], ("Health:Interval", "00:00:05"), ("Health:Timeout", "00:00:01"));
        await using LoadBalancer balancer = await RunningBalancer.StartAsync(settings);
        using var client = new TestClient(balancer.ListenEndpoints[0]);

        // Relayed traffic meets ICMP port unreachable: the passive check marks the backend down
        // well before the next probe.
        for (int i = 0; i < 5 && balancer.Backends[1].Health.IsUp; i++)
        {
            client.Send(ToB);
            await Task.Delay(50);
        }

        Assert.True(await RunningBalancer.EventuallyAsync(() => !balancer.Backends[1].Health.IsUp, 15_000));
        Assert.Equal("ICMP port unreachable", balancer.Backends[1].Health.LastFailure);
        Assert.Equal("A", client.Exchange(ToB));
    }
}
