using System.Net;
using System.Text.Json;
using Mallard.Balancer.Admin;
using Mallard.Balancer.Metrics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Mallard.Steering;

/// <summary>
/// <c>mallard steer</c>'s HTTP endpoint (Kestrel), as <c>mallard lb</c>'s: <c>/metrics</c> in
/// Prometheus text (<c>mallard_steering_packets_total</c> by branch), <c>/status</c> as JSON and
/// <c>/healthz</c>. Loopback by default; no authentication.
/// </summary>
public sealed class SteeringAdmin : IAsyncDisposable
{
    private readonly WebApplication _app;

    private SteeringAdmin(WebApplication app, IPEndPoint endpoint)
    {
        _app = app;
        Endpoint = endpoint;
    }

    /// <summary>The bound address.</summary>
    public IPEndPoint Endpoint { get; }

    /// <summary>Serves <paramref name="status"/> (read at each request) on <paramref name="endpoint"/>.</summary>
    public static async Task<SteeringAdmin> StartAsync(IPEndPoint endpoint, Func<SteeringStatus> status, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        ArgumentNullException.ThrowIfNull(status);
        MetricFamily[] families =
        [
            new("mallard.steering.packets", "{packet}", "Packets judged by the XDP program (path xdp) and by user space (path user), by branch (steered: sent to their owner).", true,
                () =>
                {
                    SteeringStatus now = status();
                    return now.Packets.Select(p => Tagged("xdp", p))
                        .Concat(now.UserSpace.Where(p => p.Key is not ("learned" or "not_forwarded" or "dropped")).Select(p => Tagged("user", p)));
                }),
            new("mallard.steering.learned", "{connection_id}", "Encrypted connection IDs that user space decoded and installed in the XDP program.", true,
                () => [([], status().UserSpace.GetValueOrDefault("learned"))]),
            new("mallard.steering.program.runs", "{packet}", "Runs of the XDP program, as the kernel counts them (0 unless sysctl kernel.bpf_stats_enabled=1).", true,
                () => [([], status().Program?.Runs ?? 0)]),
            new("mallard.steering.program.nanoseconds", "ns", "Nanoseconds spent in the XDP program, as the kernel counts them (0 unless sysctl kernel.bpf_stats_enabled=1).", true,
                () => [([], status().Program?.Nanoseconds ?? 0)]),
            new("mallard.steering.dropped", "{packet}", "Frames the kernel dropped before user space read them (its socket buffer full; without XDP).", true,
                () => [([], status().UserSpace.GetValueOrDefault("dropped"))]),
            new("mallard.steering.not_forwarded", "{packet}", "Frames user space should have steered but could not send (cut, or refused by the interface).", true,
                () => [([], status().UserSpace.GetValueOrDefault("not_forwarded"))]),
        ];
        (WebApplication app, IPEndPoint bound) = await AdminHost.StartAsync(endpoint, routes =>
        {
            routes.MapGet("/metrics", () => Results.Text(PrometheusTextWriter.Write(families), PrometheusTextWriter.ContentType));
            routes.MapGet("/status", () => Results.Text(JsonSerializer.Serialize(status(), SteeringJsonContext.Default.SteeringStatus), "application/json"));
            routes.MapGet("/healthz", () => Results.Text("ok\n"));
        }, cancellation).ConfigureAwait(false);
        return new SteeringAdmin(app, bound);
    }

    private static (KeyValuePair<string, object?>[] Tags, long Value) Tagged(string path, KeyValuePair<string, long> branch) =>
        ([KeyValuePair.Create("path", (object?)path), KeyValuePair.Create("branch", (object?)branch.Key)], branch.Value);

    /// <summary>Stops serving.</summary>
    public ValueTask DisposeAsync() => AdminHost.StopAsync(_app);
}
