using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Mallard.Balancer.Admin;

/// <summary>
/// A small Kestrel host on one address, without logging of its own: what <c>mallard lb</c>'s and
/// <c>mallard steer</c>'s admin endpoints are built on.
/// </summary>
internal static class AdminHost
{
    /// <summary>Starts serving the routes <paramref name="map"/> adds; returns the app and the address it bound (the real port when 0 was asked).</summary>
    public static async Task<(WebApplication App, IPEndPoint Endpoint)> StartAsync(IPEndPoint endpoint, Action<WebApplication> map, CancellationToken cancellation)
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(kestrel => kestrel.Listen(endpoint));
        WebApplication app = builder.Build();
        map(app);
        await app.StartAsync(cancellation).ConfigureAwait(false);
        var bound = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        return (app, new IPEndPoint(IPAddress.Parse(bound.Host.Trim('[', ']')), bound.Port));
    }

    /// <summary>Stops and frees an app <see cref="StartAsync"/> started.</summary>
    public static async ValueTask StopAsync(WebApplication app)
    {
        await app.StopAsync().ConfigureAwait(false);
        await app.DisposeAsync().ConfigureAwait(false);
    }
}
