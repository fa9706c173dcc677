using System.Globalization;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Mallard.TestSupport;

namespace Mallard.Balancer.Tests.Interop;

/// <summary>
/// Two <c>mallard lb</c> instances with the same configuration behind a router that spreads a
/// virtual address over them by equal-cost multipath, hashing the 4-tuple
/// (<c>fib_multipath_hash_policy=1</c>), in front of three servers; all in network namespaces
/// the test creates. The balancer that carries a connection leaves the ECMP group in the middle
/// of it — killed, or only taken out of the route — and the router sends the client's packets
/// to the other one, which has never seen the connection and routes it by its connection ID to
/// the same server, from its own upstream address. Or the client's NAT rebinds until the hash
/// sends it to the other balancer. Root only. docs/balancer.md tabulates what each case does.
/// </summary>
/// <remarks>
/// What the server sees is a new peer address. A Mallard.Quic server validates it and answers
/// there (RFC 9000 §9): the connection lives on. A quic-go 0.29 server keeps answering the address
/// it first knew — the first balancer's upstream socket. While that balancer still runs (taken out
/// of the route only), it relays those answers to the client, whose address has not changed, so
/// the connection lives on, asymmetric; once it is killed, the answers go nowhere and the
/// connection dies, whatever the return-path mode (that mode governs how one balancer follows a
/// client whose address changes, and here the client's address stays).
/// </remarks>
[Collection(nameof(QuicGoBehindBalancerTests))]
public sealed class EcmpBalancersTests
{
    private const string Vip = "10.78.9.1";

    [Fact]
    public async Task AMallardQuicConnectionLivesOnWhenItsBalancerIsKilledAndTheOtherTakesIt()
    {
        using var fabric = new EcmpFabric("per-client-address");
        StartSiduckServers(fabric);
        await fabric.StartBalancersAsync();
        using RunningProcess client = RunningProcess.Start("ip", fabric.Client.Wrap("dotnet", MallardProcess.Dll, "siduck", "quack", $"{Vip}:4433", "-k", "--count", "300", "--interval", "25", "--timeout", "2000"));
        Assert.True(await client.WaitForOutputAsync("seq=40 ", TimeSpan.FromSeconds(30)), client.Output + fabric.Logs());

        int carrier = fabric.Carrier();
        fabric.Kill(carrier);
        fabric.RouteOnlyTo(1 - carrier);

        // A quack or its answer in flight through the killed balancer is lost (DATAGRAMs are not
        // retransmitted); every later one is answered, on the same connection.
        await client.WaitForExitAsync(TimeSpan.FromSeconds(60));
        Match statistics = Regex.Match(client.Output, "300 quacks sent, (\\d+) quack-acks received");
        Assert.True(statistics.Success && int.Parse(statistics.Groups[1].Value, CultureInfo.InvariantCulture) >= 298, client.Output + fabric.Logs());
        Assert.Contains("seq=300 ", client.Output, StringComparison.Ordinal);
        Assert.True(fabric.PacketsTo(1 - carrier) > 100, "the other balancer carried the rest: " + fabric.Logs());
    }

    [Fact]
    public async Task AMallardQuicConnectionLivesOnWhenItsClientsNatRebindsOntoTheOtherBalancer()
    {
        using var fabric = new EcmpFabric("per-client-address", behindNat: true);
        StartSiduckServers(fabric);
        await fabric.StartBalancersAsync();
        using RunningProcess client = RunningProcess.Start("ip", fabric.Client.Wrap("dotnet", MallardProcess.Dll, "siduck", "quack", $"{Vip}:4433", "-k", "--count", "800", "--interval", "25", "--timeout", "2000"));
        Assert.True(await client.WaitForOutputAsync("seq=40 ", TimeSpan.FromSeconds(30)), client.Output + fabric.Logs());

        int moves = await fabric.RebindUntilRoutedToAsync(1 - fabric.Carrier());

        // At most the quack in flight at each rebinding is lost; the connection goes on.
        await client.WaitForExitAsync(TimeSpan.FromSeconds(60));
        Match statistics = Regex.Match(client.Output, "800 quacks sent, (\\d+) quack-acks received");
        Assert.True(statistics.Success && int.Parse(statistics.Groups[1].Value, CultureInfo.InvariantCulture) >= 800 - moves - 1, $"{moves} rebindings\n" + client.Output + fabric.Logs());
        Assert.Contains("seq=800 ", client.Output, StringComparison.Ordinal);
    }

    /// <summary>
    /// Per-connection mode, where one balancer hides a rebinding from quic-go (NatRebindingTests):
    /// once the rebinding lands on the other balancer, nothing hides it. (In per-client-address
    /// mode a rebinding breaks a quic-go connection even with one balancer.)
    /// </summary>
    [Fact]
    public async Task AQuicGoConnectionDiesWhenItsClientsNatRebindsOntoTheOtherBalancer()
    {
        using var fabric = new EcmpFabric("per-connection", behindNat: true);
        string binary = await StartQuicGoServersAsync(fabric);
        await fabric.StartBalancersAsync();
        // An uploader: it keeps sending, so each NAT rebinding reaches a balancer at once. (A
        // downloader only acknowledges what arrives, and what the server sends to the forgotten
        // mapping never arrives: rebound onto the same balancer, it fell silent and died as well.)
        using RunningProcess client = RunningProcess.Start("ip", fabric.Client.Wrap(binary, "-mode", "client", "-connect", $"{Vip}:4433", "-bytes", "100000000", "-write-rate", "5000000", "-report-at", "2000000", "-idle", "4s"));
        Assert.True(await client.WaitForOutputAsync("sent", TimeSpan.FromSeconds(30)), client.Output + fabric.Logs());

        // quic-go answers the address it first knew: the first balancer's upstream socket, which
        // relays to the client's old public address, which the NAT has forgotten.
        try
        {
            await fabric.RebindUntilRoutedToAsync(1 - fabric.Carrier());
        }
        catch (Xunit.Sdk.FailException failure)
        {
            Assert.Fail(failure.Message + "\n--- client ---\n" + client.Output);
        }

        Assert.Equal(1, await client.WaitForExitAsync(TimeSpan.FromSeconds(60)));
    }

    [Theory]
    [InlineData("per-client-address", false, true)]
    [InlineData("per-connection", false, true)]
    [InlineData("per-client-address", true, false)]
    [InlineData("per-connection", true, false)]
    public async Task AQuicGoConnectionLivesOnOnlyWhileTheBalancerItFirstCameThroughRuns(string returnPath, bool kill, bool survives)
    {
        using var fabric = new EcmpFabric(returnPath);
        string binary = await StartQuicGoServersAsync(fabric);
        await fabric.StartBalancersAsync();
        using RunningProcess client = RunningProcess.Start("ip", fabric.Client.Wrap(binary, "-mode", "client", "-connect", $"{Vip}:4433", "-download", "40000000", "-report-at", "5000000", "-read-rate", "5000000", "-idle", "4s"));
        Assert.True(await client.WaitForOutputAsync("received", TimeSpan.FromSeconds(30)), client.Output + fabric.Logs());

        int carrier = fabric.Carrier();
        if (kill)
        {
            fabric.Kill(carrier);
        }

        fabric.RouteOnlyTo(1 - carrier);
        int exit = await client.WaitForExitAsync(TimeSpan.FromSeconds(60));
        if (survives)
        {
            Assert.True(exit == 0, client.Output + fabric.Logs());
            Assert.Contains("ok download bytes=40000000", client.Output, StringComparison.Ordinal);
            Assert.True(fabric.PacketsTo(1 - carrier) > 100, "the client's packets went to the other balancer: " + fabric.Logs());
        }
        else
        {
            Assert.True(exit == 1, client.Output + fabric.Logs());
        }
    }

    private static void StartSiduckServers(EcmpFabric fabric)
    {
        for (int i = 0; i < 3; i++)
        {
            fabric.StartServer(RunningProcess.Start("ip", fabric.Servers.Wrap("dotnet", MallardProcess.Dll, "siduck", "serve", "--listen", $"10.78.30.1:{4434 + i}",
                "--server-id", EcmpFabric.ServerIds[i], "--config-id", "0", "--sid-len", "4", "--nonce-len", "8")), "listening on");
        }
    }

    private static async Task<string> StartQuicGoServersAsync(EcmpFabric fabric)
    {
        string binary = await QuicGoLb.PathAsync();
        for (int i = 0; i < 3; i++)
        {
            fabric.StartServer(RunningProcess.Start("ip", fabric.Servers.Wrap(binary, "-mode", "server", "-name", ((char)('A' + i)).ToString(), "-server-id", EcmpFabric.ServerIds[i], "-listen", $"10.78.30.1:{4434 + i}")), "listening");
        }

        return binary;
    }

    /// <summary>
    /// The namespaces: client (optionally behind a NAT) — router — two balancers (the virtual address on each one's
    /// loopback, ECMP routes to both on the router) — servers (three ports on 10.78.30.1).
    /// </summary>
    private sealed class EcmpFabric : IDisposable
    {
        public static readonly string[] ServerIds = ["41414141", "42424242", "43434343"];

        private readonly string _id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3));
        private readonly List<NetworkNamespace> _namespaces = [];
        private readonly List<RunningProcess> _servers = [];
        private readonly RunningProcess?[] _balancers = new RunningProcess?[2];
        private readonly string _config;

        public EcmpFabric(string returnPath, bool behindNat = false)
        {
            Assert.True(NetworkNamespace.IsRoot, "this test creates network namespaces and needs root (CI runs as root)");
            try
            {
                Client = Add("cl");
                Router = Add("ro");
                Balancers = [Add("b1"), Add("b2")];
                Servers = Add("sv");
                if (behindNat)
                {
                    // client 10.78.0.2 — NAT (public addresses 10.78.1.10 to .41) — router 10.78.1.1
                    Nat = Add("nt");
                    Link(Client, "10.78.0.2/24", Nat, "10.78.0.1/24", "c");
                    Client.Exec("ip", "route", "add", "default", "via", "10.78.0.1");
                    Link(Nat, "10.78.1.2/24", Router, "10.78.1.1/24", "n");
                    for (int i = 0; i < PublicAddresses; i++)
                    {
                        Nat.Exec("ip", "addr", "add", $"10.78.1.{10 + i}/24", "dev", $"n{_id}a");
                    }

                    Nat.Exec("sh", "-c", "echo 1 > /proc/sys/net/ipv4/ip_forward");
                    Nat.Exec("ip", "route", "add", "default", "via", "10.78.1.1");
                    Nat.Exec("nft", "add table ip mallard; add chain ip mallard post { type nat hook postrouting priority srcnat; }; add rule ip mallard post ip saddr 10.78.0.0/24 snat to 10.78.1.10");
                }
                else
                {
                    Link(Client, "10.78.1.2/24", Router, "10.78.1.1/24", "c");
                    Client.Exec("ip", "route", "add", "default", "via", "10.78.1.1");
                }

                Router.Exec("sh", "-c", "echo 1 > /proc/sys/net/ipv4/ip_forward; echo 1 > /proc/sys/net/ipv4/fib_multipath_hash_policy");
                for (int i = 0; i < 2; i++)
                {
                    NetworkNamespace lb = Balancers[i];
                    Link(Router, $"10.78.1{i + 1}.1/24", lb, $"10.78.1{i + 1}.2/24", $"r{i}");
                    Link(lb, $"10.78.2{i + 1}.1/24", Servers, $"10.78.2{i + 1}.2/24", $"s{i}");
                    lb.Exec("ip", "addr", "add", $"{Vip}/32", "dev", "lo");
                    lb.Exec("ip", "route", "add", "default", "via", $"10.78.1{i + 1}.1");
                    lb.Exec("ip", "route", "add", "10.78.30.0/24", "via", $"10.78.2{i + 1}.2");
                }

                Servers.Exec("ip", "addr", "add", "10.78.30.1/32", "dev", "lo");
                Router.Exec("ip", "route", "add", $"{Vip}/32", "nexthop", "via", "10.78.11.2", "nexthop", "via", "10.78.12.2");
                // The client's datagrams to each balancer, counted apart from everything else the
                // router sends there (its ARP probes of a neighbour whose entry went stale).
                Router.Exec("nft", $$"""
                    add table ip mallard; add chain ip mallard counted { type filter hook forward priority 0; };
                    add counter ip mallard to0; add counter ip mallard to1;
                    add rule ip mallard counted oifname "r0{{_id}}a" ip daddr {{Vip}} udp dport 4433 counter name "to0";
                    add rule ip mallard counted oifname "r1{{_id}}a" ip daddr {{Vip}} udp dport 4433 counter name "to1"
                    """.ReplaceLineEndings(" "));
                _config = Path.Combine(Path.GetTempPath(), $"mallard-ecmp-{_id}.json");
                File.WriteAllText(_config, $$"""
                    { "Mallard": { "Balancer": {
                      "Listen": [ "{{Vip}}:4433" ], "Admin": "off", "Workers": 2, "ReturnPath": "{{returnPath}}",
                      "Configs": [ { "Id": 0, "ServerIdLength": 4, "NonceLength": 8 } ],
                      "Backends": [
                        { "Address": "10.78.30.1:4434", "ServerIds": { "0": "41414141" } },
                        { "Address": "10.78.30.1:4435", "ServerIds": { "0": "42424242" } },
                        { "Address": "10.78.30.1:4436", "ServerIds": { "0": "43434343" } } ],
                      "Health": { "Enabled": false }
                    } } }
                    """);
            }
            catch
            {
                Dispose();
                throw;
            }
        }

        /// <summary>Public addresses the NAT can move the client to.</summary>
        public const int PublicAddresses = 32;

        public NetworkNamespace Client { get; }

        /// <summary>The NAT in front of the client, when the fabric has one.</summary>
        public NetworkNamespace? Nat { get; }

        public NetworkNamespace Router { get; }

        public NetworkNamespace[] Balancers { get; }

        public NetworkNamespace Servers { get; }

        public void StartServer(RunningProcess server, string ready)
        {
            _servers.Add(server);
            Assert.True(server.WaitForOutputAsync(ready, TimeSpan.FromSeconds(30)).GetAwaiter().GetResult(), server.Output);
        }

        public async Task StartBalancersAsync()
        {
            for (int i = 0; i < 2; i++)
            {
                _balancers[i] = RunningProcess.Start("ip", Balancers[i].Wrap("dotnet", MallardProcess.Dll, "lb", "--config", _config));
            }

            for (int i = 0; i < 2; i++)
            {
                Assert.True(await _balancers[i]!.WaitForOutputAsync("Listening on", TimeSpan.FromSeconds(30)), _balancers[i]!.Output);
            }
        }

        /// <summary>The client's datagrams the router has forwarded to balancer <paramref name="index"/>.</summary>
        public long PacketsTo(int index) =>
            long.Parse(Regex.Match(Router.Exec("nft", "list", "counter", "ip", "mallard", $"to{index}"), @"packets (\d+)").Groups[1].Value, CultureInfo.InvariantCulture);

        /// <summary>The balancer the router sends the (one) connection to: the one that received more.</summary>
        public int Carrier() => PacketsTo(0) > PacketsTo(1) ? 0 : 1;

        public void Kill(int index) => _balancers[index]!.Kill();

        /// <summary>
        /// Rebinds the client's NAT to public address number <paramref name="address"/> until the
        /// router's hash sends the client to balancer <paramref name="target"/> (each try a new
        /// address, the old mapping forgotten, as a carrier NAT does); the number of tries.
        /// </summary>
        public async Task<int> RebindUntilRoutedToAsync(int target)
        {
            var tries = new System.Text.StringBuilder();
            for (int attempt = 1; attempt < PublicAddresses; attempt++)
            {
                Nat!.Exec("nft", $"flush chain ip mallard post; add rule ip mallard post ip saddr 10.78.0.0/24 snat to 10.78.1.{10 + attempt}");
                Nat.Exec("conntrack", "-F");
                // Packets sent between the rule's change and the flush still took the old mapping:
                // counted from a moment later. A connection that the move broke still sends its
                // probes, so one packet that way and none the other tells.
                await Task.Delay(150);
                long before = PacketsTo(target);
                long beforeOther = PacketsTo(1 - target);
                await Task.Delay(600);
                long toTarget = PacketsTo(target) - before;
                long toOther = PacketsTo(1 - target) - beforeOther;
                if (toTarget >= 1 && toOther == 0)
                {
                    return attempt;
                }

                tries.Append(CultureInfo.InvariantCulture, $" {toTarget}/{toOther}");
            }

            Assert.Fail($"no public address of {PublicAddresses - 1} hashed to balancer {target + 1} (packets to it / to the other, per try:{tries}): " + Logs());
            return 0;
        }

        /// <summary>Takes the other balancer out of the ECMP route, as a router does when it fails a health check.</summary>
        public void RouteOnlyTo(int index) => Router.Exec("ip", "route", "replace", $"{Vip}/32", "via", $"10.78.1{index + 1}.2");

        public string Logs() => string.Join('\n', _balancers.Select((b, i) => $"--- balancer {i + 1} ---\n{b?.Output}"))
            + "\n--- router: " + PacketsTo(0) + " and " + PacketsTo(1) + " packets to the balancers";

        public void Dispose()
        {
            foreach (RunningProcess? process in _balancers.Concat(_servers))
            {
                process?.Dispose();
            }

            _namespaces.ForEach(n => n.Dispose());
            if (_config is not null)
            {
                File.Delete(_config);
            }
        }

        private NetworkNamespace Add(string role)
        {
            var created = new NetworkNamespace($"mlb-{role}-{_id}");
            _namespaces.Add(created);
            return created;
        }

        // A veth pair named {name}{id}a (in left) and {name}{id}b (in right).
        private void Link(NetworkNamespace left, string? leftAddress, NetworkNamespace right, string rightAddress, string name) =>
            NetworkNamespace.Link(left, $"{name}{_id}a", leftAddress, right, $"{name}{_id}b", rightAddress);
    }
}
