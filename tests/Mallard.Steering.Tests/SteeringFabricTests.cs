using System.Globalization;
using System.Text.RegularExpressions;
using Mallard.Cli.Demo;
using Mallard.TestSupport;

namespace Mallard.Steering.Tests;

/// <summary>
/// Steering mode end to end, in network namespaces the test creates (root only): a client behind
/// a NAT, a router that spreads the service address over three servers on one L2 segment by
/// equal-cost multipath hashing the 4-tuple (<c>fib_multipath_hash_policy=1</c>), each server
/// answering the client directly from the service address (DSR), each running a Mallard.Quic
/// SiDUCK server with QUIC-LB connection IDs. In the middle of the exchange the NAT moves the
/// client to new public addresses until the router's hash sends it to another server. With
/// <c>mallard steer</c> on every server, that server hands the packets to the owner of their
/// connection ID and the exchange goes on; without it, the packets reach a server that has no
/// such connection and the exchange stops.
/// </summary>
public sealed partial class SteeringFabricTests
{
    private const string Vip = SteeringDemoNetwork.ServiceAddress;
    private static readonly string[] ServerIds = SteeringDemoNetwork.ServerIds;

    /// <summary>
    /// <paramref name="mode"/>: the servers' steering (null: none); <paramref name="nonceLength"/>
    /// with <paramref name="encrypted"/>: plaintext IDs (the program steers them), four-pass
    /// (server ID and nonce 12 octets) or single-pass (16) encrypted IDs, which the program hands
    /// to user space until it has learned them; <c>user</c>: no XDP at all.
    /// </summary>
    [Theory]
    [InlineData("generic", 8, false)]
    [InlineData(null, 8, false)]
    [InlineData("generic", 8, true)]
    [InlineData("user", 8, false)]
    [InlineData("user", 12, true)]
    [InlineData("auto", 12, true, true)]
    [InlineData("user", 8, false, true)]
    public async Task ARebindingClientKeepsItsConnectionOnlyWhenTheServersSteer(string? mode, int nonceLength, bool encrypted, bool routed = false)
    {
        bool steering = mode is not null;
        // auto on these virtual interfaces: generic XDP, or user space when peers are on other
        // segments (generic XDP cannot wrap GSO batches in VXLAN).
        bool userSpace = mode == "user" || (mode == "auto" && routed);
        string? key = encrypted ? "00112233445566778899aabbccddeeff" : null;
        Assert.True(Environment.UserName == "root", "this test creates network namespaces and loads XDP programs; it needs root (CI runs as root)");
        using var fabric = new SteeringDemoNetwork(routed);
        var processes = new List<RunningProcess>();
        try
        {
            List<RunningProcess> steerers = await StartFleetAsync(fabric, processes, mode, nonceLength, key);

            using RunningProcess client = RunningProcess.Start("ip", Wrap(fabric.Client, "dotnet", MallardProcess.Dll, "siduck", "quack", $"{Vip}:4433", "-k", "--count", "600", "--interval", "25", "--timeout", "1000"));
            processes.Add(client);
            Assert.True(await client.WaitForOutputAsync("seq=40 ", TimeSpan.FromSeconds(30)), client.Output);

            (int moves, _) = await fabric.RebindUntilAnotherServerAsync((_, _) => { }, CancellationToken.None);
            int answeredAtMove = Answered(client.Output);
            await Task.Delay(4000);
            int answeredSince = Answered(client.Output) - answeredAtMove;

            if (steering)
            {
                await client.WaitForExitAsync(TimeSpan.FromSeconds(60));
                long steered = 0;
                long learned = 0;
                foreach (RunningProcess steerer in steerers)
                {
                    steerer.Terminate();
                    Assert.Equal(0, await steerer.WaitForExitAsync(TimeSpan.FromSeconds(10)));
                    Assert.Contains(userSpace ? "(in user space" : "(generic XDP", steerer.Output, StringComparison.Ordinal);
                    steered += SteeringDemoRunner.StoppedCounter(steerer.Output, "steered") + SteeringDemoRunner.StoppedCounter(steerer.Output, "steered_learned");
                    learned += SteeringDemoRunner.StoppedCounter(steerer.Output, "learned");
                }

                string outputs = string.Join('\n', steerers.Select(s => s.Output));
                Assert.True(answeredSince > 100, $"{answeredSince} quacks answered in 4 s after {moves} rebindings:\n{client.Output}\n{outputs}");
                Match statistics = StatisticsLine().Match(client.Output);
                Assert.True(statistics.Success && int.Parse(statistics.Groups[1].Value, CultureInfo.InvariantCulture) >= 600 - moves - 1, client.Output + "\n" + outputs);
                Assert.True(steered > 100, "the servers steered the moved client's packets: " + outputs);
                if (encrypted && !userSpace)
                {
                    // User space decoded the moved connection's ID once and the program took over.
                    Assert.True(learned >= 1, outputs);
                }
            }
            else
            {
                Assert.True(answeredSince <= 2, $"{answeredSince} quacks answered in 4 s after the move without steering:\n{client.Output}");
            }
        }
        finally
        {
            processes.ForEach(p => p.Dispose());
        }
    }

    /// <summary>
    /// The client changes its own source port every 20 quacks (RFC 9000 section 9), and each new
    /// 4-tuple hashes to any of the three servers: with steering every quack but the one in
    /// flight at a move is answered by the first server, and the servers did steer. (Steering
    /// off fails the same way as for a NAT rebinding, the test above.) <c>self</c>: no
    /// <c>mallard steer</c>; each Mallard.Quic server steers for itself (<c>siduck serve --steer</c>,
    /// the user-space path in the server's process).
    /// </summary>
    [Theory]
    [InlineData("generic")]
    [InlineData("user")]
    [InlineData("self")]
    public async Task AClientThatChangesItsOwnPortKeepsItsConnectionWhenTheServersSteer(string mode)
    {
        Assert.True(Environment.UserName == "root", "this test creates network namespaces and loads XDP programs; it needs root (CI runs as root)");
        using var fabric = new SteeringDemoNetwork();
        var processes = new List<RunningProcess>();
        try
        {
            List<RunningProcess> steerers = await StartFleetAsync(fabric, processes, mode);

            using RunningProcess client = RunningProcess.Start("ip", Wrap(fabric.Client, "dotnet", MallardProcess.Dll, "siduck", "quack", $"{Vip}:4433", "-k",
                "--count", "240", "--interval", "25", "--timeout", "1000", "--migrate-every", "20"));
            processes.Add(client);
            await client.WaitForExitAsync(TimeSpan.FromSeconds(90));
            long steered = 0;
            foreach (RunningProcess steerer in steerers)
            {
                steerer.Terminate();
                Assert.Equal(0, await steerer.WaitForExitAsync(TimeSpan.FromSeconds(10)));
                steered += SteeringDemoRunner.StoppedCounter(steerer.Output, "steered");
            }

            string outputs = client.Output + "\n" + string.Join('\n', steerers.Select(s => s.Output));
            int moves = Regex.Matches(client.Output, "moved to local port").Count;
            Match statistics = Regex.Match(client.Output, "240 quacks sent, (\\d+) quack-acks received");
            Assert.Equal(11, moves);
            Assert.True(statistics.Success && int.Parse(statistics.Groups[1].Value, CultureInfo.InvariantCulture) >= 240 - moves, outputs);
            Assert.True(steered > 20, "the new ports hashed to other servers, which steered: " + outputs);
        }
        finally
        {
            processes.ForEach(p => p.Dispose());
        }
    }

    /// <summary>
    /// A server leaves the ECMP group (drained for maintenance: still running, out of the route).
    /// Its connections' packets now reach the others, which steer them back to it; the client's
    /// address never changed, so even quic-go 0.29, which cannot follow a new address, keeps its
    /// connection. Without steering, the download dies.
    /// </summary>
    [Theory]
    [InlineData("generic")]
    [InlineData("user")]
    [InlineData(null)]
    public async Task AQuicGoDownloadLivesOnWhenItsServerIsDrainedOnlyWhenTheServersSteer(string? mode)
    {
        bool steering = mode is not null;
        Assert.True(Environment.UserName == "root", "this test creates network namespaces and loads XDP programs; it needs root (CI runs as root)");
        using var fabric = new SteeringDemoNetwork();
        var processes = new List<RunningProcess>();
        try
        {
            string binary = await QuicGoLb.PathAsync();
            for (int i = 0; i < 3; i++)
            {
                RunningProcess server = RunningProcess.Start("ip", Wrap(fabric.Servers[i], binary, "-mode", "server", "-name", ((char)('A' + i)).ToString(),
                    "-server-id", ServerIds[i], "-listen", $"{Vip}:4433"));
                processes.Add(server);
                Assert.True(await server.WaitForOutputAsync("listening", TimeSpan.FromSeconds(30)), server.Output);
                if (steering)
                {
                    RunningProcess steerer = RunningProcess.Start("ip", Wrap(fabric.Servers[i], "dotnet", MallardProcess.Dll, "steer", "--config", fabric.SteeringConfig(i, mode!, 8, null)));
                    processes.Add(steerer);
                    Assert.True(await steerer.WaitForOutputAsync("steering on", TimeSpan.FromSeconds(30)), steerer.Output);
                }
            }

            using RunningProcess client = RunningProcess.Start("ip", Wrap(fabric.Client, binary, "-mode", "client", "-connect", $"{Vip}:4433",
                "-download", "40000000", "-report-at", "5000000", "-read-rate", "5000000", "-idle", "4s"));
            processes.Add(client);
            Assert.True(await client.WaitForOutputAsync("received", TimeSpan.FromSeconds(30)), client.Output);

            fabric.Drain(fabric.Carrier());
            int exit = await client.WaitForExitAsync(TimeSpan.FromSeconds(60));
            if (steering)
            {
                Assert.True(exit == 0, client.Output);
                Assert.Contains("ok download bytes=40000000", client.Output, StringComparison.Ordinal);
            }
            else
            {
                Assert.True(exit == 1, client.Output);
            }
        }
        finally
        {
            processes.ForEach(p => p.Dispose());
        }
    }

    /// <summary>
    /// Three Mallard.Quic SiDUCK servers issuing QUIC-LB IDs under config 0 and, unless
    /// <paramref name="mode"/> is null, steering on each: a <c>mallard steer</c> process in that
    /// mode, or (<c>self</c>) the server's own <c>--steer</c> in user space. The processes whose
    /// last line reports the steering counters.
    /// </summary>
    private static async Task<List<RunningProcess>> StartFleetAsync(SteeringDemoNetwork fabric, List<RunningProcess> processes, string? mode, int nonceLength = 8, string? key = null)
    {
        var steerers = new List<RunningProcess>();
        for (int i = 0; i < 3; i++)
        {
            string[] cidKey = key is null ? [] : ["--cid-key", key];
            string[] self = mode == "self" ? ["--steer", fabric.SteeringConfig(i, "user", nonceLength, key)] : [];
            RunningProcess server = RunningProcess.Start("ip", Wrap(fabric.Servers[i], ["dotnet", MallardProcess.Dll, "siduck", "serve", "--listen", $"{Vip}:4433",
                "--server-id", ServerIds[i], "--config-id", "0", "--sid-len", "4", "--nonce-len", nonceLength.ToString(CultureInfo.InvariantCulture), .. cidKey, .. self]));
            processes.Add(server);
            Assert.True(await server.WaitForOutputAsync("listening on", TimeSpan.FromSeconds(30)), server.Output);
            if (mode == "self")
            {
                Assert.Contains("steering on", server.Output, StringComparison.Ordinal);
                steerers.Add(server);
            }
        }

        if (mode is not null and not "self")
        {
            for (int i = 0; i < 3; i++)
            {
                RunningProcess steerer = RunningProcess.Start("ip", Wrap(fabric.Servers[i], "dotnet", MallardProcess.Dll, "steer", "--config", fabric.SteeringConfig(i, mode, nonceLength, key)));
                processes.Add(steerer);
                steerers.Add(steerer);
                Assert.True(await steerer.WaitForOutputAsync("steering on", TimeSpan.FromSeconds(30)), steerer.Output);
            }
        }

        return steerers;
    }

    private static string[] Wrap(DemoNamespace where, params string[] command) => ["netns", "exec", where.Name, .. command];

    private static int Answered(string output) => SteeringDemoRunner.Answered(output);

    [GeneratedRegex("600 quacks sent, (\\d+) quack-acks received")]
    private static partial Regex StatisticsLine();
}
