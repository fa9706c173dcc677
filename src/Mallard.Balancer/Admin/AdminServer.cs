using System.Net;
using System.Text.Json;
using Mallard.Balancer.Metrics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

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
        (WebApplication app, IPEndPoint bound) = await AdminHost.StartAsync(endpoint, routes =>
        {
            routes.MapGet("/", (HttpContext context) =>
            {
                context.Response.Headers.ContentSecurityPolicy = DashboardPolicy;
                context.Response.Headers.XContentTypeOptions = "nosniff";
                return Results.Bytes(Dashboard.Value, "text/html; charset=utf-8");
            });
            routes.MapGet("/metrics", () => Results.Text(PrometheusTextWriter.Write(metrics()), PrometheusTextWriter.ContentType));
            routes.MapGet("/status", () => Results.Text(JsonSerializer.Serialize(status(), StatusJsonContext.Default.BalancerStatus), "application/json"));
            routes.MapGet("/healthz", () => Results.Text("ok\n"));
        }, cancellation).ConfigureAwait(false);
        return new AdminServer(app, bound);
    }

    public ValueTask DisposeAsync() => AdminHost.StopAsync(_app);
}
