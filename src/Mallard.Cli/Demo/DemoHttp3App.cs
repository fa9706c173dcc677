using System.Net;
using System.Security.Cryptography.X509Certificates;
using Mallard.Quic.AspNetCore;
using Mallard.Quic.Connections;
using Mallard.QuicLb;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;

namespace Mallard.Cli.Demo;

/// <summary>
/// One of the HTTP/3 demo's servers: an ASP.NET Core app whose HTTP/3 runs on Mallard.Quic
/// (UseMallardQuic), with QUIC-LB connection IDs naming it and the fleet's static key (so a TLS
/// session ticket from one server resumes on the other). <c>GET /download/N</c> answers N octets of
/// <see cref="DemoData"/>, and every answer says which server sent it (<c>x-served-by</c>).
/// </summary>
internal sealed class DemoHttp3App : IAsyncDisposable
{
    private readonly WebApplication _app;

    private DemoHttp3App(string name, string serverId, WebApplication app, IPEndPoint endPoint)
    {
        Name = name;
        ServerId = serverId;
        _app = app;
        EndPoint = endPoint;
    }

    public string Name { get; }

    public string ServerId { get; }

    public IPEndPoint EndPoint { get; }

    public static async Task<DemoHttp3App> StartAsync(string name, string serverId, QuicLbConfig config, byte[] fleetKey, X509Certificate2 certificate)
    {
        WebApplicationBuilder builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().UseKestrelHttpsConfiguration().UseMallardQuic(quic =>
        {
            quic.ConnectionIdGenerator = new QuicLbConnectionIdGenerator(config, Convert.FromHexString(serverId));
            quic.StaticKey = fleetKey;
        });
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0, listen =>
        {
            listen.Protocols = HttpProtocols.Http3;
            listen.UseHttps(certificate);
        }));
        WebApplication app = builder.Build();
        app.Run(context => AnswerAsync(context, name));
        await app.StartAsync().ConfigureAwait(false);
        string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new DemoHttp3App(name, serverId, app, new IPEndPoint(IPAddress.Loopback, new Uri(address).Port));
    }

    private static async Task AnswerAsync(HttpContext context, string name)
    {
        context.Response.Headers["x-served-by"] = name;
        string path = context.Request.Path.Value ?? "";
        if (!path.StartsWith("/download/", StringComparison.Ordinal) || !long.TryParse(path["/download/".Length..], out long length) || length is < 0 or > 10_000_000_000)
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }

        context.Response.ContentLength = length;
        byte[] chunk = new byte[64 * 1024];
        for (long offset = 0; offset < length; offset += chunk.Length)
        {
            int size = (int)Math.Min(chunk.Length, length - offset);
            DemoData.Fill(chunk.AsSpan(0, size), offset);
            await context.Response.Body.WriteAsync(chunk.AsMemory(0, size), context.RequestAborted).ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }
}
