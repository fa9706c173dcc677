using Mallard.TestSupport;

namespace Mallard.Quic.AspNetCore.Tests;

/// <summary>examples/http3-app, built and run as a user would: HTTP/3 on Mallard.Quic beside HTTP/1.1 and HTTP/2 on one port.</summary>
public class ExampleAppTests
{
    [Fact]
    public async Task TheExampleServesHttp3AndAdvertisesItOverTcp()
    {
        string work = Directory.CreateTempSubdirectory("mallard-h3-example-").FullName;
        try
        {
            using (RunningProcess build = RunningProcess.Start("dotnet", ["build", Path.Combine(Repository.Root, "examples", "http3-app"), "-c", "Release", "--artifacts-path", work]))
            {
                Assert.True(await build.WaitForExitAsync(TimeSpan.FromMinutes(5)) == 0, build.Output);
            }

            string output = Path.Combine(work, "bin", "Http3App", "release");
            int port = FreePorts.TcpAndUdp();
            using RunningProcess app = RunningProcess.Start("dotnet", [Path.Combine(output, "Http3App.dll"), "--Port", $"{port}", "--contentRoot", output]);
            Assert.True(await app.WaitForOutputAsync("Application started", TimeSpan.FromSeconds(30)), app.Output);

            string downloads = Path.Combine(work, "downloads");
            Directory.CreateDirectory(downloads);
            using (RunningProcess client = RunningProcess.Start("/usr/bin/gtlsclient", ["-q", "--exit-on-all-streams-close", "--timeout=10s", $"--download={downloads}", "127.0.0.1", $"{port}", $"https://127.0.0.1:{port}/"]))
            {
                Assert.True(await client.WaitForExitAsync(TimeSpan.FromSeconds(30)) == 0, client.Output + app.Output);
            }

            Assert.Equal("Hello from Mallard.Quic over HTTP/3\n", await File.ReadAllTextAsync(Path.Combine(downloads, "index.html")));

            using var handler = new HttpClientHandler { ServerCertificateCustomValidationCallback = HttpClientHandler.DangerousAcceptAnyServerCertificateValidator };
            using var http = new HttpClient(handler);
            using HttpResponseMessage response = await http.GetAsync(new Uri($"https://127.0.0.1:{port}/"));
            Assert.Equal("Hello from Mallard.Quic over HTTP/1.1\n", await response.Content.ReadAsStringAsync());
            Assert.Contains($"h3=\":{port}\"", response.Headers.GetValues("Alt-Svc")); // the TCP answer points to HTTP/3 on the same port

            // A server ID that does not fit the configuration stops start-up, naming the field.
            using RunningProcess bad = RunningProcess.Start("dotnet", [Path.Combine(output, "Http3App.dll"), "--Port", $"{FreePorts.TcpAndUdp()}", "--contentRoot", output, "--Mallard:QuicLb:ServerId", "4141"]);
            Assert.NotEqual(0, await bad.WaitForExitAsync(TimeSpan.FromSeconds(30)));
            Assert.Contains("Mallard:QuicLb:ServerId: \"4141\" is not a server ID of this config; write exactly 4 octets as 8 hex digits.", bad.Output, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

}
