using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;

namespace Mallard.Quic.AspNetCore.Tests;

/// <summary>
/// An ordinary ASP.NET Core app served by Kestrel with HTTP/3 only, on Mallard.Quic:
/// <c>/hello</c>, <c>/bytes/{count}</c> (a known pattern), <c>/slow</c> (answers after a second),
/// <c>/abort</c> (aborts the request), <c>/page</c> (a page for the browser test) and <c>POST /echo</c>.
/// </summary>
internal sealed class Http3TestApp : IAsyncDisposable
{
    private readonly WebApplication _app;

    private Http3TestApp(WebApplication app, IPEndPoint endpoint)
    {
        _app = app;
        Endpoint = endpoint;
    }

    public IPEndPoint Endpoint { get; }

    /// <summary>Requests the app has begun to answer.</summary>
    public int Requests => _requests;

    private int _requests;

    public string Url(string path) => $"https://127.0.0.1:{Endpoint.Port}{path}";

    public static async Task<Http3TestApp> StartAsync(Action<MallardQuicTransportOptions>? configure = null, int port = 0)
    {
        WebApplicationBuilder builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().UseKestrelHttpsConfiguration().UseMallardQuic(configure);
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, port, listen =>
        {
            listen.Protocols = HttpProtocols.Http3;
            listen.UseHttps(Certificate.Value);
        }));
        builder.Services.AddRoutingCore();
        WebApplication app = builder.Build();
        Http3TestApp? self = null;
        app.Use(next => context =>
        {
            Interlocked.Increment(ref self!._requests);
            return next(context);
        });
        app.MapGet("/hello", (HttpContext context) =>
        {
            context.Response.Headers["X-Mallard"] = context.Request.Protocol;
            return Results.Text("hello over HTTP/3\n");
        });
        app.MapGet("/bytes/{count:int}", (int count) => Results.Bytes(Pattern(count), "application/octet-stream"));
        app.MapGet("/page", () => Results.Content(Page, "text/html; charset=utf-8"));
        app.MapGet("/slow", async () =>
        {
            await Task.Delay(1_000);
            return Results.Text("slow but complete\n");
        });
        app.MapGet("/abort", (HttpContext context) => context.Abort());
        app.MapGet("/stream", (HttpContext context) =>
        {
            // The transport's stream context (its features are the request's fallback) and the QUIC stream it carries now.
            object transport = context.Features.Get<Microsoft.AspNetCore.Connections.Features.IPersistentStateFeature>()!;
            long id = context.Features.Get<Microsoft.AspNetCore.Connections.Features.IStreamIdFeature>()!.StreamId;
            return Results.Text($"{System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(transport)} {id}");
        });
        app.MapPost("/echo", async (HttpContext context) =>
        {
            using var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body);
            return Results.Bytes(body.ToArray(), "application/octet-stream");
        });
        await app.StartAsync();
        string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        self = new Http3TestApp(app, new IPEndPoint(IPAddress.Loopback, new Uri(address).Port));
        return self;
    }

    /// <summary>
    /// The certificate's SubjectPublicKeyInfo hash (SHA-256, base64), what chromium's
    /// <c>--ignore-certificate-errors-spki-list</c> takes to trust this self-signed certificate.
    /// </summary>
    public static string CertificateSpkiHash => Convert.ToBase64String(SHA256.HashData(Certificate.Value.PublicKey.ExportSubjectPublicKeyInfo()));

    /// <summary>A page that fetches 3 MB and then shows what it got and each resource's protocol (nextHopProtocol).</summary>
    private const string Page = """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>Mallard.Quic HTTP/3</title></head>
        <body style="font: 24px sans-serif; margin: 2em">
        <h1>Kestrel on Mallard.Quic</h1>
        <p id="result">loading 3 MB…</p>
        <script>
        fetch('/bytes/3000000').then(r => r.arrayBuffer()).then(body => {
          const protocols = performance.getEntries().filter(e => e.nextHopProtocol !== undefined).map(e => e.nextHopProtocol);
          document.getElementById('result').textContent = `fetched ${body.byteLength} octets; protocols ${protocols.join(' ')}`;
        });
        </script>
        </body></html>
        """;

    /// <summary>The octets i % 251, as the quic-go client's request bodies are made.</summary>
    public static byte[] Pattern(int count)
    {
        byte[] data = new byte[count];
        for (int i = 0; i < count; i++)
        {
            data[i] = (byte)(i % 251);
        }

        return data;
    }

    public static string Sha256Of(byte[] data) => Convert.ToHexStringLower(SHA256.HashData(data));

    /// <summary>Stops the app as a host shutting down does: GOAWAY, then waiting for requests under way (RFC 9114 section 5.2).</summary>
    public Task StopAsync() => _app.StopAsync();

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private static readonly Lazy<X509Certificate2> Certificate = new(() =>
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
    });
}
