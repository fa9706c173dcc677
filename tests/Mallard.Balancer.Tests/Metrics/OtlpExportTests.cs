using System.Collections.Concurrent;
using System.Net;
using System.Text;
using Mallard.Balancer.Tests.TestSupport;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Mallard.Balancer.Tests.Metrics;

/// <summary>
/// <c>Mallard:Balancer:Otlp</c>: the balancer's meter reaches an OTLP/HTTP collector — here a
/// small one in the test that keeps every body posted to <c>/v1/metrics</c> — with the same
/// instrument names and tags as <c>/metrics</c>.
/// </summary>
public class OtlpExportTests
{
    private static readonly byte[] ToA = Packets.Short(Convert.FromHexString("00414141410102030405060708"));

    [Fact]
    public async Task TheMeterIsExportedToACollectorOverOtlpHttp()
    {
        var bodies = new ConcurrentQueue<byte[]>();
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        await using WebApplication collector = builder.Build();
        collector.MapPost("/v1/metrics", async (HttpContext context) =>
        {
            using var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body);
            bodies.Enqueue(body.ToArray());
            return Results.Ok();
        });
        await collector.StartAsync();
        string address = collector.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();

        using var a = new UdpTestBackend("A");
        await using (LoadBalancer balancer = await RunningBalancer.StartAsync(TestSettings.Loopback(
            [(a.Endpoint, "41414141")], ("Otlp:Endpoint", address), ("Otlp:Interval", "00:00:01"))))
        {
            using var client = new TestClient(balancer.ListenEndpoints[0]);
            Assert.Equal("A", client.Exchange(ToA));
            Assert.True(await RunningBalancer.EventuallyAsync(() => bodies.Any(b => Contains(b, "mallard.lb.packets") && Contains(b, "connection_id"))));
        }

        // Protobuf carries names and tag values as plain UTF-8: the same ones /metrics uses.
        byte[] all = [.. bodies.SelectMany(b => b)];
        foreach (string expected in (string[])["mallard.lb.packets", "mallard.lb.backend.packets", "mallard.lb.flows", "branch", "to_backend", a.Endpoint.ToString()])
        {
            Assert.True(Contains(all, expected), $"no {expected} in what the collector received");
        }
    }

    private static bool Contains(byte[] haystack, string needle) => haystack.AsSpan().IndexOf(Encoding.UTF8.GetBytes(needle)) >= 0;
}
