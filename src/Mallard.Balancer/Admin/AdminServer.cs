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

namespace Mallard.Balancer.Admin;

/// <summary>
/// The admin HTTP endpoint (Kestrel): <c>/metrics</c> in Prometheus text, <c>/status</c> as JSON
/// and <c>/healthz</c>. It binds to one address, loopback by default; it has no authentication,
/// so expose it only where every caller may read routing state.
/// </summary>
internal sealed class AdminServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private AdminServer(WebApplication app, IPEndPoint endpoint)
    {
        _app = app;
        Endpoint = endpoint;
    }

    public IPEndPoint Endpoint { get; }

    public static async Task<AdminServer> StartAsync(IPEndPoint endpoint, Func<BalancerStatus> status, Func<IEnumerable<MetricFamily>> metrics, CancellationToken cancellation)
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(kestrel => kestrel.Listen(endpoint));
        WebApplication app = builder.Build();
        app.MapGet("/metrics", () => Results.Text(PrometheusTextWriter.Write(metrics()), PrometheusTextWriter.ContentType));
        app.MapGet("/status", () => Results.Text(JsonSerializer.Serialize(status(), StatusJsonContext.Default.BalancerStatus), "application/json"));
        app.MapGet("/healthz", () => Results.Text("ok\n"));
        await app.StartAsync(cancellation).ConfigureAwait(false);

        string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        var bound = new Uri(address);
        return new AdminServer(app, new IPEndPoint(IPAddress.Parse(bound.Host.Trim('[', ']')), bound.Port));
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }
}
