using System.Net;
using Mallard.Balancer.Admin;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;

namespace Mallard.Balancer.Tests.Admin;

public class AdminHostTests
{
    /// <summary>
    /// The admin host reads no configuration files: a file source with reload on change watches
    /// the working directory and all below it, which from / (systemd's default) cost seconds of
    /// inotify set-up before the admin endpoint answered (1.5 s for `mallard demo` run from /).
    /// </summary>
    [Fact]
    public async Task TheHostServesItsRoutesAndWatchesNoFiles()
    {
        (WebApplication app, IPEndPoint bound) = await AdminHost.StartAsync(new IPEndPoint(IPAddress.Loopback, 0), routes => routes.MapGet("/healthz", () => Results.Text("ok\n")), CancellationToken.None);
        try
        {
            Assert.DoesNotContain(((IConfigurationRoot)app.Configuration).Providers, provider => provider is FileConfigurationProvider);
            using var http = new HttpClient();
            Assert.Equal("ok\n", await http.GetStringAsync(new Uri($"http://{bound}/healthz")));
        }
        finally
        {
            await AdminHost.StopAsync(app);
        }
    }
}
