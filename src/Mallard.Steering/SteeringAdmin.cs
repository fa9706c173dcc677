using System.Net;
using System.Text.Json;
using Mallard.Balancer.Metrics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

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
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(kestrel => kestrel.Listen(endpoint));
        WebApplication app = builder.Build();
        MetricFamily[] families =
        [
            new("mallard.steering.packets", "{packet}", "Packets for the service port and others that the XDP program judged, by branch (steered: sent to their owner).", true,
                () => status().Packets.Select(p => (new[] { KeyValuePair.Create("branch", (object?)p.Key) }, p.Value))),
        ];
        app.MapGet("/metrics", () => Results.Text(PrometheusTextWriter.Write(families), PrometheusTextWriter.ContentType));
        app.MapGet("/status", () => Results.Text(JsonSerializer.Serialize(status(), SteeringJsonContext.Default.SteeringStatus), "application/json"));
        app.MapGet("/healthz", () => Results.Text("ok\n"));
        await app.StartAsync(cancellation).ConfigureAwait(false);
        var bound = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        return new SteeringAdmin(app, new IPEndPoint(IPAddress.Parse(bound.Host.Trim('[', ']')), bound.Port));
    }

    /// <summary>Stops serving.</summary>
    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }
}
