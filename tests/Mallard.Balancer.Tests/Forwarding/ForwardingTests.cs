using System.Net;
using Mallard.Balancer.Configuration;
using Mallard.Balancer.Tests.TestSupport;
using Mallard.QuicLb;
using Mallard.Linux;

namespace Mallard.Balancer.Tests.Forwarding;

/// <summary>Real UDP through a running balancer on loopback.</summary>
public class ForwardingTests
{
    public static TheoryData<string, string?> Configs() => new()
    {
        { "plaintext", null },
        { "single-pass", "8f95f09245765f80256934e50c66207f" },
        { "four-pass", "abcdefabcdefabcdefabcdefabcdefab" },
    };

    /// <summary>The seed's experiment: short headers carrying server IDs "AAAA" and "BBBB" reach the right backends.</summary>
    [Theory]
    [MemberData(nameof(Configs))]
    public async Task ConnectionIdsReachTheBackendThatOwnsTheirServerId(string kind, string? key)
    {
        using var a = new UdpTestBackend("A");
        using var b = new UdpTestBackend("B");
        // Single-pass needs server ID + nonce = 16 octets; the others use 4 + 8.
        int nonceLength = kind == "single-pass" ? 12 : 8;
        var extra = new List<(string, string)> { ("Configs:0:NonceLength", nonceLength.ToString(System.Globalization.CultureInfo.InvariantCulture)) };
        if (key is not null)
        {
            extra.Add(("Configs:0:Key", key));
        }

        BalancerSettings settings = TestSettings.Loopback([(a.Endpoint, "41414141"), (b.Endpoint, "42424242")], [.. extra]);
        await using LoadBalancer balancer = await RunningBalancer.StartAsync(settings);
        var encoderA = new ConnectionIdEncoder(settings.Configs[0], "AAAA"u8);
        var encoderB = new ConnectionIdEncoder(settings.Configs[0], "BBBB"u8);

        for (int i = 0; i < 20; i++)
        {
            using var client = new TestClient(balancer.ListenEndpoints[0]);
            Assert.Equal("A", client.Exchange(Packets.Short(encoderA.Issue())));
            Assert.Equal("B", client.Exchange(Packets.Short(encoderB.Issue())));
        }

        Assert.Equal(40, balancer.GetStatus().Packets["connection_id"]);
        Assert.Equal(20, a.Received.Count);
        Assert.Equal(20, b.Received.Count);
    }

    /// <summary>Both data planes (Linux batched I/O and portable .NET sockets), IPv4 and IPv6 listeners, both return-path modes.</summary>
    [Theory]
    [InlineData(true, "127.0.0.1:0", "per-client-address")]
    [InlineData(false, "127.0.0.1:0", "per-client-address")]
    [InlineData(true, "[::1]:0", "per-connection")]
    [InlineData(false, "[::1]:0", "per-connection")]
    public async Task EachDataPlaneRelaysBothWays(bool batched, string listen, string returnPath)
    {
        Assert.True(!batched || LinuxNative.IsSupported, "the batched data plane needs Linux on x86-64 or arm64");
        using var a = new UdpTestBackend("A");
        using var b = new UdpTestBackend("B");
        BalancerSettings settings = TestSettings.Loopback([(a.Endpoint, "41414141"), (b.Endpoint, "42424242")], ("Listen:0", listen), ("ReturnPath", returnPath));
        await using LoadBalancer balancer = await RunningBalancer.StartAsync(settings, batched);
        IPEndPoint target = balancer.ListenEndpoints[0];
        using var client = new System.Net.Sockets.Socket(target.AddressFamily, System.Net.Sockets.SocketType.Dgram, System.Net.Sockets.ProtocolType.Udp);
        client.ReceiveTimeout = 10_000; // the portable plane relays replies on the thread pool, which a loaded machine can keep waiting
        byte[] reply = new byte[2048];
        for (int i = 0; i < 50; i++)
        {
            byte[] packet = Packets.Short(Convert.FromHexString(i % 2 == 0 ? "00414141410102030405060708" : "00424242420102030405060708"), 100 + i);
            client.SendTo(packet, target);
            int length = client.Receive(reply);
            Assert.Equal(i % 2 == 0 ? "A:" : "B:", System.Text.Encoding.ASCII.GetString(reply, 0, 2));
            Assert.Equal(packet, reply.AsSpan(2, length - 2).ToArray());
        }

        Assert.Equal(batched, balancer.Listeners[0].Workers[0].IsBatched);
        Assert.Equal(25, a.Received.Count);
        Assert.Equal(2, balancer.ProxyCounters.LiveFlows);
    }

    [Fact]
    public async Task PerClientAddressGivesAMovedClientANewUpstreamPort()
    {
        using var a = new UdpTestBackend("A");
        await using LoadBalancer balancer = await RunningBalancer.StartAsync(TestSettings.Loopback([(a.Endpoint, "41414141")]));
        byte[] packet = Packets.Short(Convert.FromHexString("00414141410102030405060708"));
        using var before = new TestClient(balancer.ListenEndpoints[0]);
        using var after = new TestClient(balancer.ListenEndpoints[0]);

        Assert.Equal("A", before.Exchange(packet));
        Assert.Equal("A", after.Exchange(packet));

        IPEndPoint[] upstreams = [.. a.Received.Select(r => r.From)];
        Assert.NotEqual(upstreams[0], upstreams[1]);
        Assert.Equal(2, balancer.ProxyCounters.LiveFlows);
    }

    /// <summary>
    /// Per-connection mode: the backend keeps seeing one upstream port when the client moves; the
    /// return path moves only once the old address has gone quiet for the hold time.
    /// </summary>
    [Fact]
    public async Task PerConnectionKeepsTheUpstreamPortAndMovesTheReturnPathAfterTheOldAddressGoesQuiet()
    {
        using var a = new UdpTestBackend("A");
        BalancerSettings settings = TestSettings.Loopback([(a.Endpoint, "41414141")], ("ReturnPath", "per-connection"), ("Proxy:ReturnPathHoldTime", "00:00:02"));
        await using LoadBalancer balancer = await RunningBalancer.StartAsync(settings);
        byte[] packet = Packets.Short(Convert.FromHexString("00414141410102030405060708"));
        using var before = new TestClient(balancer.ListenEndpoints[0]);
        using var after = new TestClient(balancer.ListenEndpoints[0]);

        Assert.Equal("A", before.Exchange(packet));

        // Straight after: the old address spoke within the hold time, so the reply still goes there.
        after.Send(packet);
        Assert.Equal("A", before.ReceiveFrom());
        Assert.Null(after.ReceiveFrom(200));
        Assert.Equal(1, balancer.ProxyCounters.ReturnPathHeld);

        // The old address is silent now (a NAT rebinding): the next packet moves the return path.
        await Task.Delay(2400);
        Assert.Equal("A", after.Exchange(packet));
        Assert.Equal(1, balancer.ProxyCounters.ReturnPathMoved);

        Assert.Single(a.Received.Select(r => r.From).Distinct());
        Assert.Equal(1, balancer.ProxyCounters.LiveFlows);
    }

    /// <summary>
    /// Per-connection mode with a flow journal: once the return path has moved, the journal names
    /// the new address, so a balancer started after this one relays the flow to where the client is.
    /// </summary>
    [Fact]
    public async Task AReturnPathThatMovedIsWhatABalancerStartedFromTheJournalUses()
    {
        string folder = Directory.CreateTempSubdirectory("mallard-journal-").FullName;
        try
        {
            using var a = new UdpTestBackend("A");
            BalancerSettings settings = TestSettings.Loopback([(a.Endpoint, "41414141")],
                ("ReturnPath", "per-connection"), ("Proxy:ReturnPathHoldTime", "00:00:00.200"), ("Proxy:FlowJournal", Path.Combine(folder, "flows")));
            byte[] packet = Packets.Short(Convert.FromHexString("00414141410102030405060708"));
            IPEndPoint moved;
            await using (LoadBalancer balancer = await RunningBalancer.StartAsync(settings))
            {
                using var before = new TestClient(balancer.ListenEndpoints[0]);
                using var after = new TestClient(balancer.ListenEndpoints[0]);
                moved = after.LocalEndpoint;
                Assert.Equal("A", before.Exchange(packet));
                await Task.Delay(400);
                Assert.Equal("A", after.Exchange(packet));
                Assert.Equal(1, balancer.ProxyCounters.ReturnPathMoved);
            }

            await using LoadBalancer restarted = await RunningBalancer.StartAsync(settings);
            Mallard.Balancer.Forwarding.Upstream flow = Assert.Single(restarted.Listeners[0].Flows.Snapshot());
            Assert.Equal(moved, (IPEndPoint)new IPEndPoint(IPAddress.Any, 0).Create(flow.ReturnPath.Address));
            Assert.Equal(1, restarted.ProxyCounters.FlowsRestored);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>An attacker who replays a connection's packets from another address while the client is active gets nothing.</summary>
    [Fact]
    public async Task PerConnectionIgnoresASpoofedAddressWhileTheClientIsActive()
    {
        using var a = new UdpTestBackend("A");
        BalancerSettings settings = TestSettings.Loopback([(a.Endpoint, "41414141")], ("ReturnPath", "per-connection"), ("Proxy:ReturnPathHoldTime", "00:00:02"));
        await using LoadBalancer balancer = await RunningBalancer.StartAsync(settings);
        byte[] packet = Packets.Short(Convert.FromHexString("00414141410102030405060708"));
        using var client = new TestClient(balancer.ListenEndpoints[0]);
        using var attacker = new TestClient(balancer.ListenEndpoints[0]);

        for (int i = 0; i < 20; i++)
        {
            Assert.Equal("A", client.Exchange(packet));
            attacker.Send(packet);
            Assert.True(client.ReceiveFrom() == "A", $"iteration {i}: held {balancer.ProxyCounters.ReturnPathHeld}, moved {balancer.ProxyCounters.ReturnPathMoved}, backend got {a.Received.Count}, flows {balancer.ProxyCounters.LiveFlows}");
            await Task.Delay(50);
        }

        Assert.Null(attacker.ReceiveFrom(100));
        Assert.Equal(0, balancer.ProxyCounters.ReturnPathMoved);
        Assert.Equal(20, balancer.ProxyCounters.ReturnPathHeld);
    }

    /// <summary>The failure QUIC-LB prevents: routing by client address sends a moved client to another server.</summary>
    [Fact]
    public async Task RoutingByClientAddressSendsSomeMovedClientsElsewhere()
    {
        using var a = new UdpTestBackend("A");
        using var b = new UdpTestBackend("B");
        BalancerSettings settings = TestSettings.Loopback([(a.Endpoint, "41414141"), (b.Endpoint, "42424242")], ("RouteBy", "client-address"));
        await using LoadBalancer balancer = await RunningBalancer.StartAsync(settings);
        byte[] toA = Packets.Short(Convert.FromHexString("00414141410102030405060708"));

        var landed = new HashSet<string?>();
        for (int i = 0; i < 32 && landed.Count < 2; i++)
        {
            using var client = new TestClient(balancer.ListenEndpoints[0]);
            landed.Add(client.Exchange(toA));
        }

        Assert.Equal(["A", "B"], landed.Order());
    }

    [Fact]
    public async Task FlowsBeyondTheLimitAreDroppedAndCountedAndIdleFlowsClose()
    {
        using var a = new UdpTestBackend("A");
        BalancerSettings settings = TestSettings.Loopback([(a.Endpoint, "41414141")], ("Proxy:MaxFlows", "2"), ("Proxy:FlowIdleTimeout", "00:00:01"));
        await using LoadBalancer balancer = await RunningBalancer.StartAsync(settings);
        byte[] packet = Packets.Short(Convert.FromHexString("00414141410102030405060708"));
        // Three hosts, so that the per-source limit (at most MaxFlows) does not decide.
        using var first = new TestClient(balancer.ListenEndpoints[0], IPAddress.Parse("127.0.0.1"));
        using var second = new TestClient(balancer.ListenEndpoints[0], IPAddress.Parse("127.0.0.2"));
        using var third = new TestClient(balancer.ListenEndpoints[0], IPAddress.Parse("127.0.0.3"));

        Assert.Equal("A", first.Exchange(packet));
        Assert.Equal("A", second.Exchange(packet));
        Assert.Null(third.Exchange(packet, 300));
        Assert.Equal(1, balancer.ProxyCounters.FlowLimitReached);

        Assert.True(await RunningBalancer.EventuallyAsync(() => balancer.ProxyCounters.LiveFlows == 0));
        Assert.Equal("A", third.Exchange(packet));
    }
}
