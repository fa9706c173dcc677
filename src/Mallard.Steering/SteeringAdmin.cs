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
            new("mallard.steering.packets", "{packet}", "Packets for the service port and others that the XDP program judged, by branch (steered: sent to their owner).", true,
                () => status().Packets.Select(p => (new[] { KeyValuePair.Create("branch", (object?)p.Key) }, p.Value))),
        ];
        (WebApplication app, IPEndPoint bound) = await AdminHost.StartAsync(endpoint, routes =>
        {
            routes.MapGet("/metrics", () => Results.Text(PrometheusTextWriter.Write(families), PrometheusTextWriter.ContentType));
            routes.MapGet("/status", () => Results.Text(JsonSerializer.Serialize(status(), SteeringJsonContext.Default.SteeringStatus), "application/json"));
            routes.MapGet("/healthz", () => Results.Text("ok\n"));
        }, cancellation).ConfigureAwait(false);
        return new SteeringAdmin(app, bound);
    }

    /// <summary>Stops serving.</summary>
    public ValueTask DisposeAsync() => AdminHost.StopAsync(_app);
}
