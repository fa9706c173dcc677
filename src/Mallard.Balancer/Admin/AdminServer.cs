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
/// The admin HTTP endpoint (Kestrel): a live dashboard at <c>/</c> (a self-contained page that
/// polls <c>/status</c>), <c>/metrics</c> in Prometheus text, <c>/status</c> as JSON and
/// <c>/healthz</c>. It binds to one address, loopback by default; it has no authentication, so
/// expose it only where every caller may read routing state.
/// </summary>
internal sealed class AdminServer : IAsyncDisposable
{
    /// <summary>
    /// What the dashboard may do in the browser: run its own inline script and style, fetch
    /// <c>/status</c> from this origin, draw inline SVG — nothing from anywhere else.
    /// </summary>
    private const string DashboardPolicy = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    private static readonly Lazy<byte[]> Dashboard = new(() =>
    {
        using Stream page = typeof(AdminServer).Assembly.GetManifestResourceStream("Mallard.Balancer.Admin.Dashboard.html")
            ?? throw new InvalidOperationException("the dashboard page is missing from the assembly");
        using var copy = new MemoryStream();
        page.CopyTo(copy);
        return copy.ToArray();
    });

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
        app.MapGet("/", (HttpContext context) =>
        {
            context.Response.Headers.ContentSecurityPolicy = DashboardPolicy;
            context.Response.Headers.XContentTypeOptions = "nosniff";
            return Results.Bytes(Dashboard.Value, "text/html; charset=utf-8");
        });
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
