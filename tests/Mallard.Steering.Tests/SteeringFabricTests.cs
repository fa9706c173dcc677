using System.Globalization;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
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
    private const string Vip = "10.79.9.1";
    private static readonly string[] ServerIds = ["41414141", "42424242", "43434343"];

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
    public async Task ARebindingClientKeepsItsConnectionOnlyWhenTheServersSteer(string? mode, int nonceLength, bool encrypted)
    {
        bool steering = mode is not null;
        string? key = encrypted ? "00112233445566778899aabbccddeeff" : null;
        Assert.True(Environment.UserName == "root", "this test creates network namespaces and loads XDP programs; it needs root (CI runs as root)");
        using var fabric = new Fabric();
        var processes = new List<RunningProcess>();
        try
        {
            for (int i = 0; i < 3; i++)
            {
                string[] cidKey = key is null ? [] : ["--cid-key", key];
                RunningProcess server = RunningProcess.Start("ip", fabric.Servers[i].Wrap(["dotnet", MallardProcess.Dll, "siduck", "serve", "--listen", $"{Vip}:4433",
                    "--server-id", ServerIds[i], "--config-id", "0", "--sid-len", "4", "--nonce-len", nonceLength.ToString(CultureInfo.InvariantCulture), .. cidKey]));
                processes.Add(server);
                Assert.True(await server.WaitForOutputAsync("listening on", TimeSpan.FromSeconds(30)), server.Output);
            }

            var steerers = new List<RunningProcess>();
            if (steering)
            {
                for (int i = 0; i < 3; i++)
                {
                    RunningProcess steerer = RunningProcess.Start("ip", fabric.Servers[i].Wrap("dotnet", MallardProcess.Dll, "steer", "--config", fabric.SteeringConfig(i, mode!, nonceLength, key)));
                    processes.Add(steerer);
                    steerers.Add(steerer);
                    Assert.True(await steerer.WaitForOutputAsync("steering on", TimeSpan.FromSeconds(30)), steerer.Output);
                }
            }

            using RunningProcess client = RunningProcess.Start("ip", fabric.Client.Wrap("dotnet", MallardProcess.Dll, "siduck", "quack", $"{Vip}:4433", "-k", "--count", "600", "--interval", "25", "--timeout", "1000"));
            processes.Add(client);
            Assert.True(await client.WaitForOutputAsync("seq=40 ", TimeSpan.FromSeconds(30)), client.Output);

            int moves = await fabric.RebindUntilAnotherServerAsync();
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
                    string stopped = StoppedLine().Match(steerer.Output).Value;
                    Assert.Contains(mode == "user" ? "(in user space" : "(generic XDP", steerer.Output, StringComparison.Ordinal);
                    steered += Counter(stopped, "steered") + Counter(stopped, "steered_learned");
                    learned += Counter(stopped, "learned");
                }

                string outputs = string.Join('\n', steerers.Select(s => s.Output));
                Assert.True(answeredSince > 100, $"{answeredSince} quacks answered in 4 s after {moves} rebindings:\n{client.Output}\n{outputs}");
                Match statistics = StatisticsLine().Match(client.Output);
                Assert.True(statistics.Success && int.Parse(statistics.Groups[1].Value, CultureInfo.InvariantCulture) >= 600 - moves - 1, client.Output + "\n" + outputs);
                Assert.True(steered > 100, "the servers steered the moved client's packets: " + outputs);
                if (encrypted && mode != "user")
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
        using var fabric = new Fabric();
        var processes = new List<RunningProcess>();
        try
        {
            string binary = await QuicGoLb.PathAsync();
            for (int i = 0; i < 3; i++)
            {
                RunningProcess server = RunningProcess.Start("ip", fabric.Servers[i].Wrap(binary, "-mode", "server", "-name", ((char)('A' + i)).ToString(),
                    "-server-id", ServerIds[i], "-listen", $"{Vip}:4433"));
                processes.Add(server);
                Assert.True(await server.WaitForOutputAsync("listening", TimeSpan.FromSeconds(30)), server.Output);
                if (steering)
                {
                    RunningProcess steerer = RunningProcess.Start("ip", fabric.Servers[i].Wrap("dotnet", MallardProcess.Dll, "steer", "--config", fabric.SteeringConfig(i, mode!, 8, null)));
                    processes.Add(steerer);
                    Assert.True(await steerer.WaitForOutputAsync("steering on", TimeSpan.FromSeconds(30)), steerer.Output);
                }
            }

            using RunningProcess client = RunningProcess.Start("ip", fabric.Client.Wrap(binary, "-mode", "client", "-connect", $"{Vip}:4433",
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

    private static int Answered(string output) => QuackAck().Matches(output).Count;

    [GeneratedRegex("quack-ack from ")]
    private static partial Regex QuackAck();

    [GeneratedRegex("600 quacks sent, (\\d+) quack-acks received")]
    private static partial Regex StatisticsLine();

    [GeneratedRegex("stopped; .*")]
    private static partial Regex StoppedLine();

    // A counter summed over the "xdp:" and "user space:" parts of a report line.
    private static long Counter(string line, string name) =>
        Regex.Matches(line, $"(?<![a-z_]){name}=(\\d+)").Sum(m => long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture));

    /// <summary>client — NAT (32 public addresses) — router (a bridge, ECMP over three next hops) — three servers.</summary>
    private sealed partial class Fabric : IDisposable
    {
        private const int PublicAddresses = 32;

        private readonly string _id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3));
        private readonly List<NetworkNamespace> _namespaces = [];
        private readonly List<string> _files = [];
        private readonly string[] _macs = new string[3];

        public Fabric()
        {
            try
            {
                Client = Add("cl");
                Nat = Add("nt");
                Router = Add("ro");
                Servers = [Add("s1"), Add("s2"), Add("s3")];
                Link(Client, "10.79.0.2/24", Nat, "10.79.0.1/24", "c");
                Client.Exec("ip", "route", "add", "default", "via", "10.79.0.1");
                Link(Nat, "10.79.1.2/24", Router, "10.79.1.1/24", "n");
                for (int i = 0; i < PublicAddresses; i++)
                {
                    Nat.Exec("ip", "addr", "add", $"10.79.1.{10 + i}/24", "dev", $"n{_id}a");
                }

                Nat.Exec("sh", "-c", "echo 1 > /proc/sys/net/ipv4/ip_forward");
                Nat.Exec("ip", "route", "add", "default", "via", "10.79.1.1");
                Nat.Exec("nft", "add table ip mallard; add chain ip mallard post { type nat hook postrouting priority srcnat; }; add rule ip mallard post ip saddr 10.79.0.0/24 snat to 10.79.1.10");

                string bridge = $"br{_id}";
                Router.Exec("ip", "link", "add", bridge, "type", "bridge");
                Router.Exec("ip", "addr", "add", "10.79.2.1/24", "dev", bridge);
                Router.Exec("ip", "link", "set", bridge, "up");
                Router.Exec("sh", "-c", "echo 1 > /proc/sys/net/ipv4/ip_forward; echo 1 > /proc/sys/net/ipv4/fib_multipath_hash_policy");
                Router.Exec("nft", "add table ip mallard; add chain ip mallard routed { type filter hook forward priority filter; }");
                for (int i = 0; i < 3; i++)
                {
                    Link(Router, null, Servers[i], $"10.79.2.1{i + 1}/24", $"p{i}");
                    Router.Exec("ip", "link", "set", $"p{i}{_id}a", "master", bridge);
                    Servers[i].Exec("ip", "addr", "add", $"{Vip}/32", "dev", "lo");
                    Servers[i].Exec("ip", "route", "add", "default", "via", "10.79.2.1");
                    _macs[i] = Servers[i].Exec("cat", $"/sys/class/net/p{i}{_id}b/address").Trim();

                    // Which server the router's hash picks, counted by next hop.
                    Router.Exec("nft", $"add rule ip mallard routed ip daddr {Vip} rt nexthop 10.79.2.1{i + 1} counter");
                }

                Router.Exec("ip", "route", "add", $"{Vip}/32", "nexthop", "via", "10.79.2.11", "nexthop", "via", "10.79.2.12", "nexthop", "via", "10.79.2.13");
            }
            catch
            {
                Dispose();
                throw;
            }
        }

        public NetworkNamespace Client { get; }

        public NetworkNamespace Nat { get; }

        public NetworkNamespace Router { get; }

        public NetworkNamespace[] Servers { get; }

        /// <summary>Server <paramref name="index"/>'s steering configuration file: its ID, the other two as peers.</summary>
        public string SteeringConfig(int index, string mode, int nonceLength, string? key)
        {
            string keyField = key is null ? string.Empty : ", \"Key\": \"" + key + "\"";
            string peers = string.Join(", ", Enumerable.Range(0, 3).Where(i => i != index)
                .Select(i => $$"""{ "Mac": "{{_macs[i]}}", "ServerIds": { "0": "{{ServerIds[i]}}" } }"""));
            string path = Path.Combine(Path.GetTempPath(), $"mallard-steer-{_id}-{index}.json");
            File.WriteAllText(path, $$"""
                { "Mallard": {
                  "Balancer": { "Configs": [ { "Id": 0, "ServerIdLength": 4, "NonceLength": {{nonceLength}}{{keyField}} } ] },
                  "Steering": { "Interface": "p{{index}}{{_id}}b", "ServicePort": 4433, "Mode": "{{mode}}",
                    "ServerIds": { "0": "{{ServerIds[index]}}" }, "Peers": [ {{peers}} ] } } }
                """);
            _files.Add(path);
            return path;
        }

        /// <summary>The server the router has sent the client to (the most packets).</summary>
        public int Carrier()
        {
            long[] routed = Routed();
            return Array.IndexOf(routed, routed.Max());
        }

        /// <summary>Takes server <paramref name="index"/> out of the ECMP route (it keeps running).</summary>
        public void Drain(int index)
        {
            string[] hops = [.. Enumerable.Range(0, 3).Where(i => i != index).SelectMany(i => new[] { "nexthop", "via", $"10.79.2.1{i + 1}" })];
            Router.Exec(["ip", "route", "replace", $"{Vip}/32", .. hops]);
        }

        /// <summary>
        /// Moves the client to new public addresses until the router sends it to a server other
        /// than the one it used; the number of moves.
        /// </summary>
        public async Task<int> RebindUntilAnotherServerAsync()
        {
            int carrier = Carrier();
            var tries = new System.Text.StringBuilder();
            for (int attempt = 1; attempt < PublicAddresses; attempt++)
            {
                Nat.Exec("nft", $"flush chain ip mallard post; add rule ip mallard post ip saddr 10.79.0.0/24 snat to 10.79.1.{10 + attempt}");
                Nat.Exec("conntrack", "-F");
                await Task.Delay(150);
                long[] before = Routed();
                await Task.Delay(600);
                long[] after = Routed();
                long toCarrier = after[carrier] - before[carrier];
                long elsewhere = after.Sum() - before.Sum() - toCarrier;
                if (elsewhere >= 1 && toCarrier == 0)
                {
                    return attempt;
                }

                tries.Append(CultureInfo.InvariantCulture, $" {toCarrier}/{elsewhere}");
            }

            Assert.Fail($"no public address of {PublicAddresses - 1} hashed to another server (packets to the first / elsewhere:{tries})");
            return 0;
        }

        public void Dispose()
        {
            _namespaces.ForEach(n => n.Dispose());
            _files.ForEach(File.Delete);
        }

        // Packets the router forwarded to the service address, by next hop (server).
        private long[] Routed()
        {
            string rules = Router.Exec("nft", "list chain ip mallard routed");
            var counts = new long[3];
            foreach (Match match in RoutedCounter().Matches(rules))
            {
                counts[int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture) - 1] = long.Parse(match.Groups[2].Value, CultureInfo.InvariantCulture);
            }

            return counts;
        }

        private NetworkNamespace Add(string role)
        {
            var created = new NetworkNamespace($"mst-{role}-{_id}");
            _namespaces.Add(created);
            return created;
        }

        // A veth pair named {name}{id}a (in left) and {name}{id}b (in right).
        private void Link(NetworkNamespace left, string? leftAddress, NetworkNamespace right, string rightAddress, string name) =>
            NetworkNamespace.Link(left, $"{name}{_id}a", leftAddress, right, $"{name}{_id}b", rightAddress);

        [GeneratedRegex("nexthop 10\\.79\\.2\\.1(\\d) counter packets (\\d+)")]
        private static partial Regex RoutedCounter();
    }
}
