using Mallard.TestSupport;

namespace Mallard.Cli.Tests;

/// <summary>
/// The <c>mallard</c> command published with Native AOT (README, "Install"): one native binary,
/// no .NET runtime needed where it runs. Every library is marked <c>IsAotCompatible</c>, so the
/// trim and AOT analyzers check them on each build; these tests run the binary itself — the QUIC
/// stack, the balancer with its source-generated configuration binding and admin routes, Kestrel's
/// HTTP/3 on Mallard.Quic with Mallard's HTTP/3 client, and the steering program's libbpf calls — since what the analyzers cannot see shows only when it runs.
/// </summary>
public sealed class NativeAotTests(NativeAotTests.PublishedMallard published) : IClassFixture<NativeAotTests.PublishedMallard>
{
    [Fact]
    public async Task TheDemoRunsAndTheConnectionSurvives()
    {
        using RunningProcess demo = RunningProcess.Start(published.Binary, ["demo", "--megabytes", "6"]);

        Assert.True(await demo.WaitForExitAsync(TimeSpan.FromSeconds(60)) == 0, demo.Output);
        Assert.Contains("100 %: 6,000,000 octets, every octet as sent", demo.Output, StringComparison.Ordinal);
        Assert.Contains("the connection survived the rebinding", demo.Output, StringComparison.Ordinal);
    }

    /// <summary>Kestrel's HTTP/3 on Mallard.Quic, Mallard's HTTP/3 client and session resumption, in the AOT binary.</summary>
    [Fact]
    public async Task TheHttp3DemoRuns()
    {
        using RunningProcess demo = RunningProcess.Start(published.Binary, ["demo", "--http3", "--megabytes", "6"]);

        Assert.True(await demo.WaitForExitAsync(TimeSpan.FromSeconds(60)) == 0, demo.Output);
        Assert.Contains("100 %: 6,000,000 octets, every octet as sent, on one connection across the rebinding", demo.Output, StringComparison.Ordinal);
        Assert.Contains("the fleet resumed the session", demo.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheBalancerServesItsAdminEndpointAndRefusesABadConfigByName()
    {
        int admin = FreePorts.Tcp();
        string config = ScratchFolder.NewFile("aot-lb");
        File.WriteAllText(config, $$"""
            { "Mallard": { "Balancer": { "Listen": [ "127.0.0.1:0" ], "Admin": "127.0.0.1:{{admin}}", "Workers": 1,
              "Configs": [ { "Id": 0, "ServerIdLength": 4, "NonceLength": 8 } ],
              "Backends": [ { "Address": "127.0.0.1:4434", "ServerIds": { "0": "41414141" } } ],
              "Health": { "Enabled": false } } } }
            """);
        using (RunningProcess lb = RunningProcess.Start(published.Binary, ["lb", "--config", config]))
        {
            Assert.True(await lb.WaitForOutputAsync("Running:", TimeSpan.FromSeconds(20)), lb.Output);
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{admin}") };
            Assert.Contains("\"routeBy\": \"connection-id\"", await http.GetStringAsync("/status"), StringComparison.Ordinal);
            Assert.Contains("mallard_lb_packets_total{branch=\"connection_id\"} 0", await http.GetStringAsync("/metrics"), StringComparison.Ordinal);
            Assert.Contains("<!doctype html>", await http.GetStringAsync("/"), StringComparison.Ordinal);
            lb.Terminate();
            Assert.Equal(0, await lb.WaitForExitAsync(TimeSpan.FromSeconds(20)));
        }

        // The configuration binder is source-generated in this build; unknown keys are still refused by path.
        File.WriteAllText(config, File.ReadAllText(config).Replace("\"Workers\": 1,", "\"Workers\": 1, \"Proxy\": { \"FlowTimeot\": 5 },", StringComparison.Ordinal));
        using RunningProcess bad = RunningProcess.Start(published.Binary, ["lb", "--config", config]);
        Assert.Equal(1, await bad.WaitForExitAsync(TimeSpan.FromSeconds(20)));
        Assert.Contains("mallard: Mallard:Balancer:Proxy:", bad.Output, StringComparison.Ordinal);
        Assert.Contains("FlowTimeot", bad.Output, StringComparison.Ordinal);
    }

    /// <summary>The steering demo: XDP programs loaded and their learning queue read through libbpf, in the AOT binary.</summary>
    [Fact]
    public async Task TheSteeringDemoRuns()
    {
        Assert.True(Environment.UserName == "root", "mallard demo --steering makes network namespaces and loads XDP programs; it needs root (CI runs as root)");
        using RunningProcess demo = RunningProcess.Start(published.Binary, ["demo", "--steering"]);

        Assert.True(await demo.WaitForExitAsync(TimeSpan.FromSeconds(120)) == 0, demo.Output);
        Assert.Contains("mallard steer on every server (generic XDP)", demo.Output, StringComparison.Ordinal);
        Assert.Contains("survived", demo.Output, StringComparison.Ordinal);
    }


    /// <summary>Publishes <c>mallard</c> with Native AOT once for these tests, into a folder of its own.</summary>
    public sealed class PublishedMallard : IAsyncLifetime
    {
        private readonly string _work = Directory.CreateTempSubdirectory("mallard-aot-").FullName;

        public string Binary => Path.Combine(_work, "out", "mallard");

        public async Task InitializeAsync()
        {
            // Its own artifacts folder, so nothing is shared with the build of the test projects.
            using RunningProcess publish = RunningProcess.Start("dotnet", ["publish", Path.Combine(Repository.Root, "src", "Mallard.Cli"),
                "-c", "Release", "-r", "linux-x64", "-p:PublishAot=true", "--artifacts-path", Path.Combine(_work, "artifacts"), "-o", Path.Combine(_work, "out")]);
            int exit = await publish.WaitForExitAsync(TimeSpan.FromMinutes(8));
            if (exit != 0 || !File.Exists(Binary))
            {
                throw new InvalidOperationException($"dotnet publish -p:PublishAot=true failed ({exit}):\n{publish.Output}");
            }

            if (File.Exists(Path.Combine(_work, "out", "mallard.dll")))
            {
                throw new InvalidOperationException("a Native AOT publish carries no managed assemblies, yet mallard.dll is there");
            }
        }

        public Task DisposeAsync()
        {
            Directory.Delete(_work, recursive: true);
            return Task.CompletedTask;
        }
    }
}
