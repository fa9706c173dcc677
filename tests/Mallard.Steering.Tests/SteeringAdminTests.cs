using System.Net;
using System.Text.Json;

namespace Mallard.Steering.Tests;

/// <summary><c>mallard steer</c>'s HTTP endpoint: the branch counters in Prometheus text and the status as JSON.</summary>
public sealed class SteeringAdminTests
{
    [Fact]
    public async Task MetricsAndStatusShowTheCountersAsTheyAreNow()
    {
        long steered = 5;
        SteeringStatus Status() => new(
            "eth0",
            "generic",
            "02:00:00:00:00:0a",
            443,
            new Dictionary<string, string> { ["0"] = "41414141" },
            2,
            new Dictionary<string, long> { ["own"] = 7, ["steered"] = Interlocked.Read(ref steered) },
            new Dictionary<string, long> { ["steered"] = 3, ["learned"] = 4, ["not_forwarded"] = 1 });
        await using SteeringAdmin admin = await SteeringAdmin.StartAsync(new IPEndPoint(IPAddress.Loopback, 0), Status);
        using var http = new HttpClient { BaseAddress = new Uri($"http://{admin.Endpoint}") };

        string metrics = await http.GetStringAsync(new Uri("/metrics", UriKind.Relative));
        Assert.Contains("# TYPE mallard_steering_packets_total counter", metrics, StringComparison.Ordinal);
        Assert.Contains("mallard_steering_packets_total{path=\"xdp\",branch=\"steered\"} 5\n", metrics, StringComparison.Ordinal);
        Assert.Contains("mallard_steering_packets_total{path=\"xdp\",branch=\"own\"} 7\n", metrics, StringComparison.Ordinal);
        Assert.Contains("mallard_steering_packets_total{path=\"user\",branch=\"steered\"} 3\n", metrics, StringComparison.Ordinal);
        Assert.DoesNotContain("branch=\"learned\"", metrics, StringComparison.Ordinal);
        Assert.Contains("mallard_steering_learned_total 4\n", metrics, StringComparison.Ordinal);
        Assert.Contains("mallard_steering_not_forwarded_total 1\n", metrics, StringComparison.Ordinal);

        Interlocked.Exchange(ref steered, 9);
        using JsonDocument status = JsonDocument.Parse(await http.GetStringAsync(new Uri("/status", UriKind.Relative)));
        Assert.Equal("eth0", status.RootElement.GetProperty("interface").GetString());
        Assert.Equal("41414141", status.RootElement.GetProperty("serverIds").GetProperty("0").GetString());
        Assert.Equal(9, status.RootElement.GetProperty("packets").GetProperty("steered").GetInt64());
        Assert.Equal(4, status.RootElement.GetProperty("userSpace").GetProperty("learned").GetInt64());
        Assert.Equal("ok\n", await http.GetStringAsync(new Uri("/healthz", UriKind.Relative)));
    }
}
