using System.Net;
using System.Text.RegularExpressions;
using Mallard.Balancer.Configuration;
using Mallard.Balancer.Tests.TestSupport;
using Mallard.TestSupport;

namespace Mallard.Balancer.Tests.Interop;

/// <summary>
/// Real QUIC through mallard lb: quic-go 0.29 servers whose connection IDs carry their QUIC-LB
/// server IDs, and quic-go clients, on loopback.
/// </summary>
[Collection(nameof(QuicGoBehindBalancerTests))]
public sealed partial class QuicGoBehindBalancerTests
{
    private static readonly string[] ServerIds = ["41414141", "42424242", "43434343"];
    private const string SinglePassKey = "8f95f09245765f80256934e50c66207f";

    [Theory]
    [InlineData("plaintext")]
    [InlineData("single-pass")]
    public async Task ConnectionsSpreadOverThreeServersAndEachStaysOnTheServerItsConnectionIdsName(string kind)
    {
        bool encrypted = kind == "single-pass";
        string[] serverIds = encrypted ? ["0102030405060708", "1112131415161718", "2122232425262728"] : ServerIds;
        string[] extra = encrypted ? ["-nonce-len", "8", "-key", SinglePassKey] : [];
        await using Fleet fleet = await Fleet.StartAsync(serverIds, extra, encrypted
            ? [("Configs:0:ServerIdLength", "8"), ("Configs:0:NonceLength", "8"), ("Configs:0:Key", SinglePassKey)]
            : []);

        using RunningProcess client = RunningProcess.Start(await QuicGoLb.PathAsync(), ["-mode", "client", "-connect", fleet.Listen, "-connections", "9", "-bytes", "100000"]);
        int exit = await client.WaitForExitAsync(TimeSpan.FromSeconds(120));

        Assert.True(exit == 0, client.Output);
        string[] servers = [.. ServerName().Matches(client.Output).Select(m => m.Groups[1].Value)];
        Assert.Equal(9, servers.Length);
        Assert.True(servers.Distinct().Count() >= 2, client.Output);

        // Every packet after the client's Initials was routed by its connection ID (a wrong server
        // would have dropped packets for a connection it does not know and the transfer would
        // fail); only Initials, with their client-chosen DCIDs, took the fallback.
        var status = fleet.Balancer.GetStatus();
        Assert.True(status.Packets["connection_id"] > 9 * 10, $"connection_id: {status.Packets["connection_id"]}");
        string counts = string.Join(", ", status.Packets.Concat(status.Unroutable).Select(p => $"{p.Key}={p.Value}"));
        Assert.True(status.Packets["fallback_client_address"] + status.Packets["client_address_table"] == 0, counts);
    }

    /// <summary>
    /// The client moves to a new source port (closing the old one) a quarter of the way through
    /// a 4 MB upload. In per-connection mode the connection survives and the data arrives intact,
    /// even though quic-go 0.29 servers never follow a client's address.
    /// </summary>
    [Fact]
    public async Task AClientWhoseAddressChangesKeepsItsConnectionInPerConnectionMode()
    {
        await using Fleet fleet = await Fleet.StartAsync(ServerIds, [], [("ReturnPath", "per-connection")]);

        using RunningProcess client = RunningProcess.Start(await QuicGoLb.PathAsync(),
            ["-mode", "client", "-connect", fleet.Listen, "-connections", "3", "-bytes", "4000000", "-rebind-at", "1000000"]);
        int exit = await client.WaitForExitAsync(TimeSpan.FromSeconds(120));

        Assert.True(exit == 0, client.Output);
        Assert.Equal(3, Regex.Matches(client.Output, "rebound to").Count);
        Assert.Equal(3, fleet.Balancer.ProxyCounters.ReturnPathMoved);
    }

    /// <summary>The same move through a balancer that routes by client address only: the connection is lost.</summary>
    [Fact]
    public async Task TheSameMoveFailsWhenTheBalancerRoutesByClientAddress()
    {
        await using Fleet fleet = await Fleet.StartAsync(ServerIds, [], [("RouteBy", "client-address")]);

        using RunningProcess client = RunningProcess.Start(await QuicGoLb.PathAsync(),
            ["-mode", "client", "-connect", fleet.Listen, "-connections", "1", "-bytes", "4000000", "-rebind-at", "1000000", "-idle", "3s"]);
        int exit = await client.WaitForExitAsync(TimeSpan.FromSeconds(60));

        Assert.True(exit == 1, client.Output);
        Assert.Contains("conn=0 failed", client.Output, StringComparison.Ordinal);
    }

    /// <summary>The balancer is stopped and a new one started in the middle of an upload; the connection goes on.</summary>
    [Fact]
    public async Task AConnectionContinuesAcrossABalancerRestart()
    {
        await using Fleet fleet = await Fleet.StartAsync(ServerIds, [], []);
        using RunningProcess client = RunningProcess.Start(await QuicGoLb.PathAsync(),
            ["-mode", "client", "-connect", fleet.Listen, "-connections", "1", "-bytes", "2000000", "-pause-at", "500000", "-idle", "20s"]);
        Assert.True(await client.WaitForOutputAsync("paused", TimeSpan.FromSeconds(30)), client.Output);

        await fleet.RestartBalancerAsync();
        client.WriteLine("go on");
        int exit = await client.WaitForExitAsync(TimeSpan.FromSeconds(60));

        Assert.True(exit == 0, client.Output);
        Assert.True(fleet.Balancer.GetStatus().Packets["connection_id"] > 10, "the new balancer routed the rest by connection ID");
    }

    [GeneratedRegex("server=(\\w+) bytes=")]
    private static partial Regex ServerName();

    /// <summary>
    /// A quic-go client downloads 60 MB from a quic-go server through a `mallard lb` process with
    /// a flow journal; the balancer is killed with SIGKILL a few megabytes in and a new one
    /// started at once. The client, which only acknowledges what arrives, says nothing while no
    /// balancer runs; the new balancer opens its flow again from the journal, so the server's
    /// retransmissions reach it and the download completes, every octet checked.
    /// </summary>
    [Fact]
    public async Task ADownloadCompletesAfterTheBalancerIsKilledAndStartedAgainWithAFlowJournal()
    {
        int[] ports = FreePorts.Udp(2);
        using RunningProcess server = await QuicGoLb.StartServerAsync("A", ServerIds[0], ports[0]);
        string folder = Directory.CreateTempSubdirectory("mallard-journal-").FullName;
        try
        {
            string config = Path.Combine(folder, "lb.json");
            await File.WriteAllTextAsync(config, $$"""
                { "Mallard": { "Balancer": {
                  "Listen": [ "127.0.0.1:{{ports[1]}}" ], "Admin": "off",
                  "Configs": [ { "Id": 0, "ServerIdLength": 4, "NonceLength": 8 } ],
                  "Backends": [ { "Address": "127.0.0.1:{{ports[0]}}", "ServerIds": { "0": "{{ServerIds[0]}}" } } ],
                  "Health": { "Enabled": false },
                  "Proxy": { "FlowJournal": "{{Path.Combine(folder, "flows")}}" }
                } } }
                """);
            string[] balancer = [MallardProcess.Dll, "lb", "--config", config];
            RunningProcess first = RunningProcess.Start("dotnet", balancer);
            RunningProcess? second = null;
            try
            {
                Assert.True(await first.WaitForOutputAsync("Listening on", TimeSpan.FromSeconds(30)), first.Output);
                using RunningProcess client = RunningProcess.Start(await QuicGoLb.PathAsync(),
                    ["-mode", "client", "-connect", $"127.0.0.1:{ports[1]}", "-download", "60000000", "-report-at", "3000000", "-idle", "10s"]);
                Assert.True(await client.WaitForOutputAsync("received", TimeSpan.FromSeconds(30)), client.Output);

                first.Kill();
                await first.WaitForExitAsync(TimeSpan.FromSeconds(10));
                second = RunningProcess.Start("dotnet", balancer);

                int exit = await client.WaitForExitAsync(TimeSpan.FromSeconds(60));
                Assert.True(exit == 0, $"client: {client.Output}\nbalancer after the kill: {second.Output}");
                Assert.Contains("conn=0 ok download bytes=60000000", client.Output, StringComparison.Ordinal);
                Assert.True(await second.WaitForOutputAsync("Restored 1 of 1 flows", TimeSpan.FromSeconds(10)), second.Output);
            }
            finally
            {
                first.Dispose();
                second?.Dispose();
            }
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>Three quicgo-lb servers behind a balancer.</summary>
    private sealed class Fleet : IAsyncDisposable
    {
        private readonly List<RunningProcess> _servers;
        private readonly BalancerSettings _settings;

        private Fleet(List<RunningProcess> servers, BalancerSettings settings, LoadBalancer balancer)
        {
            _servers = servers;
            _settings = settings;
            Balancer = balancer;
        }

        public LoadBalancer Balancer { get; private set; }

        public string Listen => Balancer.ListenEndpoints[0].ToString();

        public static async Task<Fleet> StartAsync(string[] serverIds, string[] serverArguments, (string, string)[] settings)
        {
            int[] ports = FreePorts.Udp(serverIds.Length + 1);
            var servers = new List<RunningProcess>();
            try
            {
                for (int i = 0; i < serverIds.Length; i++)
                {
                    servers.Add(await QuicGoLb.StartServerAsync(((char)('A' + i)).ToString(), serverIds[i], ports[i], serverArguments));
                }

                BalancerSettings balancerSettings = TestSettings.Loopback(
                    [.. serverIds.Select((id, i) => (new IPEndPoint(IPAddress.Loopback, ports[i]), id))],
                    [("Listen:0", $"127.0.0.1:{ports[^1]}"), .. settings]);
                return new Fleet(servers, balancerSettings, await RunningBalancer.StartAsync(balancerSettings));
            }
            catch
            {
                servers.ForEach(s => s.Dispose());
                throw;
            }
        }

        public async Task RestartBalancerAsync()
        {
            await Balancer.DisposeAsync();
            Balancer = await RunningBalancer.StartAsync(_settings);
        }

        public async ValueTask DisposeAsync()
        {
            await Balancer.DisposeAsync();
            _servers.ForEach(s => s.Dispose());
        }
    }
}
