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
        // The empty builder: no configuration files, logging or content root of its own. The slim
        // builder reads appsettings.json from the working directory with reload on change, which
        // watches that directory and everything under it — from / (systemd's default), seconds of
        // inotify set-up over the whole file system before the admin endpoint answers.
        WebApplicationBuilder builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { Args = [] });
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel => kestrel.Listen(endpoint));
        builder.Services.AddRoutingCore();
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
