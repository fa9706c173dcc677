using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Mallard.Balancer.Configuration;
using Mallard.Balancer.Tests.TestSupport;

namespace Mallard.Balancer.Tests;

public class LoadBalancerTests
{
    private static readonly byte[] ToA = Packets.Short(Convert.FromHexString("00414141410102030405060708"));
    private static readonly byte[] ToB = Packets.Short(Convert.FromHexString("00424242420102030405060708"));
    private static readonly byte[] ToC = Packets.Short(Convert.FromHexString("00434343430102030405060708"));

    /// <summary>Adding a config and a backend, changing weights and removing a backend leaves CID-routed flows of the others alone.</summary>
    [Fact]
    public async Task AReloadDoesNotDisturbConnectionsRoutedByConnectionId()
    {
        using var a = new UdpTestBackend("A");
        using var b = new UdpTestBackend("B");
        using var c = new UdpTestBackend("C");
        await using LoadBalancer balancer = await RunningBalancer.StartAsync(TestSettings.Loopback([(a.Endpoint, "41414141"), (b.Endpoint, "42424242")]));
        using var client = new TestClient(balancer.ListenEndpoints[0]);
        Assert.Equal("A", client.Exchange(ToA));
        Assert.Equal("B", client.Exchange(ToB));
        Assert.NotEqual("C", client.Exchange(ToC));

        BalancerSettings next = TestSettings.Loopback(
            [(a.Endpoint, "41414141"), (c.Endpoint, "43434343")],
            ("Backends:0:Weight", "5"),
            ("Configs:1:Id", "1"),
            ("Configs:1:ServerIdLength", "6"),
            ("Configs:1:NonceLength", "8"),
            ("Configs:1:Key", "abcdefabcdefabcdefabcdefabcdefab"));
        balancer.Reload(next);

        Assert.Equal("A", client.Exchange(ToA));
        Assert.Equal("C", client.Exchange(ToC));
        Assert.Single(a.Received.Select(r => r.From).Distinct());
        Assert.Equal(2, balancer.GetStatus().Generation);
        Assert.True(await RunningBalancer.EventuallyAsync(() => balancer.ProxyCounters.LiveFlows == 2), "the flow to the removed backend closes");
        Assert.NotEqual("B", client.Exchange(ToB));
    }

    /// <summary>Flows opened under an older snapshot (before other reloads) still close when their backend is removed.</summary>
    [Fact]
    public async Task RemovingABackendClosesItsFlowsWhateverSnapshotOpenedThem()
    {
        using var a = new UdpTestBackend("A");
        using var b = new UdpTestBackend("B");
        BalancerSettings both = TestSettings.Loopback([(a.Endpoint, "41414141"), (b.Endpoint, "42424242")]);
        await using LoadBalancer balancer = await RunningBalancer.StartAsync(both);
        using var client = new TestClient(balancer.ListenEndpoints[0]);
        Assert.Equal("B", client.Exchange(ToB));

        balancer.Reload(both);
        balancer.Reload(TestSettings.Loopback([(a.Endpoint, "41414141")]));

        Assert.True(await RunningBalancer.EventuallyAsync(() => balancer.ProxyCounters.LiveFlows == 0), "the flow to B closes");
        Assert.Equal("A", client.Exchange(ToB));
    }

    [Fact]
    public async Task ReloadKeepsListenAdminAndWorkersUntilRestart()
    {
        using var a = new UdpTestBackend("A");
        await using LoadBalancer balancer = await RunningBalancer.StartAsync(TestSettings.Loopback([(a.Endpoint, "41414141")]));
        IPEndPoint before = balancer.ListenEndpoints[0];

        balancer.Reload(TestSettings.Loopback([(a.Endpoint, "41414141")], ("Listen:0", "127.0.0.1:1"), ("Workers", "7")));

        Assert.Equal(before, balancer.ListenEndpoints[0]);
        Assert.Equal(2, balancer.Settings.Workers);
        using var client = new TestClient(before);
        Assert.Equal("A", client.Exchange(ToA));
    }

    /// <summary>
    /// More than a million hostile datagrams (empty, 1-20 octets, truncated long headers, CID
    /// lengths over 20, random bytes, Initials with random DCIDs) on loopback, bounded in time;
    /// then real traffic still goes where it should.
    /// </summary>
    [Fact]
    public async Task AMillionHostileDatagramsAreCountedAndRealTrafficStillRoutes()
    {
        using var a = new UdpTestBackend("A");
        using var b = new UdpTestBackend("B");
        await using LoadBalancer balancer = await RunningBalancer.StartAsync(TestSettings.Loopback([(a.Endpoint, "41414141"), (b.Endpoint, "42424242")]));
        IPEndPoint target = balancer.ListenEndpoints[0];

        const int Total = 1_000_000;
        // The hostile socket stays open to the end, so the test client cannot be given its port
        // and receive echoes of hostile datagrams the balancer relayed as unroutable traffic.
        using var hostile = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        hostile.Connect(target);
        int sent = await Task.Run(() => SendHostile(hostile, Total, TimeSpan.FromSeconds(60)));
        Assert.Equal(Total, sent);

        // The balancer may not have read every datagram (the kernel drops what overflows its
        // socket buffer), but everything it read is counted in exactly one branch.
        await RunningBalancer.EventuallyAsync(() => balancer.GetStatus().Listeners[0].Received == balancer.GetStatus().Packets.Values.Sum());
        var status = balancer.GetStatus();
        Assert.Equal(status.Listeners[0].Received, status.Packets.Values.Sum());
        Assert.True(status.Packets["malformed"] > 100_000, $"malformed: {status.Packets["malformed"]}");
        Assert.True(status.Packets["small_initial"] > 1_000);

        using var client = new TestClient(target);
        for (int i = 0; i < 10; i++)
        {
            Assert.Equal("A", client.Exchange(ToA));
            Assert.Equal("B", client.Exchange(ToB));
        }
    }

    [Fact]
    public async Task TheAdminEndpointServesPrometheusTextAndStatusJsonAndTheMeterReportsTheSameCounts()
    {
        using var a = new UdpTestBackend("A");
        await using LoadBalancer balancer = await RunningBalancer.StartAsync(TestSettings.Loopback([(a.Endpoint, "41414141")], ("Admin", "127.0.0.1:0")));
        using var client = new TestClient(balancer.ListenEndpoints[0]);
        Assert.Equal("A", client.Exchange(ToA));
        client.Send([0x40, 1, 2]);
        Assert.True(await RunningBalancer.EventuallyAsync(() => balancer.GetStatus().Packets["malformed"] == 1));

        using var http = new HttpClient { BaseAddress = new Uri($"http://{balancer.AdminEndpoint}") };
        string metrics = await http.GetStringAsync(new Uri("/metrics", UriKind.Relative));
        Assert.Contains("mallard_lb_packets_total{branch=\"connection_id\"} 1\n", metrics, StringComparison.Ordinal);
        Assert.Contains("mallard_lb_packets_total{branch=\"malformed\"} 1\n", metrics, StringComparison.Ordinal);
        Assert.Contains("mallard_lb_routed_by_config_total{config_id=\"0\"} 1\n", metrics, StringComparison.Ordinal);
        Assert.Contains($"mallard_lb_backend_packets_total{{backend=\"{a.Endpoint}\",direction=\"to_backend\"}} 1\n", metrics, StringComparison.Ordinal);
        Assert.Contains("# TYPE mallard_lb_flows gauge", metrics, StringComparison.Ordinal);

        using JsonDocument status = JsonDocument.Parse(await http.GetStringAsync(new Uri("/status", UriKind.Relative)));
        JsonElement backend = status.RootElement.GetProperty("backends")[0];
        Assert.Equal(a.Endpoint.ToString(), backend.GetProperty("address").GetString());
        Assert.Equal("41414141", backend.GetProperty("serverIds").GetProperty("0").GetString());
        Assert.Equal(1, status.RootElement.GetProperty("packets").GetProperty("connection_id").GetInt64());

        long observed = 0;
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == LoadBalancer.MeterName && instrument.Name == "mallard.lb.packets")
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            foreach (KeyValuePair<string, object?> tag in tags)
            {
                if (tag.Key == "branch" && (string?)tag.Value == "connection_id")
                {
                    observed += value;
                }
            }
        });
        listener.Start();
        listener.RecordObservableInstruments();
        Assert.True(observed >= 1);
    }

    private static int SendHostile(Socket socket, int total, TimeSpan limit)
    {
        var random = new Random(21);
        byte[] buffer = new byte[1300];
        long deadline = Environment.TickCount64 + (long)limit.TotalMilliseconds;
        int sent = 0;
        for (; sent < total && Environment.TickCount64 < deadline; sent++)
        {
            int length;
            switch (sent % 6)
            {
                case 0:
                    length = random.Next(0, 21);
                    random.NextBytes(buffer.AsSpan(0, length));
                    break;
                case 1:
                    // Truncated long header.
                    length = random.Next(1, 12);
                    random.NextBytes(buffer.AsSpan(0, length));
                    buffer[0] |= 0x80;
                    break;
                case 2:
                    // QUIC v1 long header with a connection ID length over 20.
                    length = 64;
                    random.NextBytes(buffer.AsSpan(0, length));
                    buffer[0] = 0xc0;
                    buffer.AsSpan(1, 4).Clear();
                    buffer[4] = 1;
                    buffer[5] = (byte)random.Next(21, 256);
                    break;
                case 3:
                    // An Initial with a random DCID in a datagram too small to carry one.
                    length = random.Next(30, 1199);
                    Packets.Initial(RandomBytes(random, 8), RandomBytes(random, 8)).AsSpan(0, length).CopyTo(buffer);
                    break;
                default:
                    length = random.Next(0, buffer.Length);
                    random.NextBytes(buffer.AsSpan(0, length));
                    break;
            }

            socket.Send(buffer.AsSpan(0, length));
        }

        return sent;
    }

    private static byte[] RandomBytes(Random random, int count)
    {
        byte[] bytes = new byte[count];
        random.NextBytes(bytes);
        return bytes;
    }
}
