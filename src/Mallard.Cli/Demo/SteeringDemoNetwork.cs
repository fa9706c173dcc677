using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace Mallard.Cli.Demo;

/// <summary>
/// The network of <c>mallard demo --steering</c> (and of the steering tests), in namespaces made
/// here and removed on dispose: a client behind a NAT with 32 public addresses, a router that
/// spreads the service address over three servers on one L2 segment (a bridge) by equal-cost
/// multipath hashing of the 4-tuple (<c>fib_multipath_hash_policy=1</c>, as an ECMP tier or
/// IPVS would), and each server holding the service address on its loopback, answering the
/// client directly (DSR). An nftables counter per next hop shows where the router sends packets.
/// Routed, each server has a link of its own to the router instead (three segments, MTU 1600 for
/// the VXLAN headers) and a VXLAN device that unwraps what its peers steer to it.
/// </summary>
internal sealed partial class SteeringDemoNetwork : IDisposable
{
    /// <summary>The service address every server holds.</summary>
    public const string ServiceAddress = "10.79.9.1";

    /// <summary>The servers' QUIC-LB IDs under config 0 (four octets).</summary>
    public static readonly string[] ServerIds = ["41414141", "42424242", "43434343"];

    private const int PublicAddresses = 32;

    private readonly string _id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3));
    private readonly List<DemoNamespace> _namespaces = [];
    private readonly string _folder = Directory.CreateTempSubdirectory("mallard-steering-").FullName;
    private readonly string[] _macs = new string[3];
    private readonly string[] _nextHops = new string[3];
    private readonly bool _routed;
    private int _publicAddress;

    public SteeringDemoNetwork(bool routed = false)
    {
        _routed = routed;
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
            if (!routed)
            {
                Router.Exec("ip", "link", "add", bridge, "type", "bridge");
                Router.Exec("ip", "addr", "add", "10.79.2.1/24", "dev", bridge);
                Router.Exec("ip", "link", "set", bridge, "up");
            }

            Router.Exec("sh", "-c", "echo 1 > /proc/sys/net/ipv4/ip_forward; echo 1 > /proc/sys/net/ipv4/fib_multipath_hash_policy");
            Router.Exec("nft", "add table ip mallard; add chain ip mallard routed { type filter hook forward priority filter; }");
            for (int i = 0; i < 3; i++)
            {
                // One segment: 10.79.2.11-13 on the router's bridge. Routed: 10.79.2{i}.2 each,
                // the router at .1.
                _nextHops[i] = routed ? $"10.79.2{i}.2" : $"10.79.2.1{i + 1}";
                Link(Router, routed ? $"10.79.2{i}.1/24" : null, Servers[i], $"{_nextHops[i]}/24", $"p{i}");
                if (routed)
                {
                    Router.Exec("ip", "link", "set", $"p{i}{_id}a", "mtu", "1600");
                    Servers[i].Exec("ip", "link", "set", ServerInterface(i), "mtu", "1600");
                    Servers[i].Exec("ip", "link", "add", VxlanInterface, "type", "vxlan", "id", Mallard.Steering.SteeringEncapsulation.DefaultVni.ToString(CultureInfo.InvariantCulture),
                        "dstport", "4789", "local", _nextHops[i], "nolearning");
                    Servers[i].Exec("ip", "link", "set", VxlanInterface, "up");
                    // What arrives through it comes from clients whose route is the other link.
                    Servers[i].Exec("sh", "-c", $"echo 0 > /proc/sys/net/ipv4/conf/all/rp_filter; echo 0 > /proc/sys/net/ipv4/conf/{VxlanInterface}/rp_filter");
                }
                else
                {
                    Router.Exec("ip", "link", "set", $"p{i}{_id}a", "master", bridge);
                }

                Servers[i].Exec("ip", "addr", "add", $"{ServiceAddress}/32", "dev", "lo");
                Servers[i].Exec("ip", "route", "add", "default", "via", routed ? $"10.79.2{i}.1" : "10.79.2.1");
                _macs[i] = Servers[i].Exec("cat", $"/sys/class/net/{(routed ? VxlanInterface : ServerInterface(i))}/address").Trim();
                Router.Exec("nft", $"add rule ip mallard routed ip daddr {ServiceAddress} rt nexthop {_nextHops[i]} counter");
            }

            Router.Exec(["ip", "route", "add", $"{ServiceAddress}/32", .. _nextHops.SelectMany(hop => new[] { "nexthop", "via", hop })]);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public DemoNamespace Client { get; }

    public DemoNamespace Nat { get; }

    public DemoNamespace Router { get; }

    public DemoNamespace[] Servers { get; }

    /// <summary>The client's public address now.</summary>
    public string PublicAddress => $"10.79.1.{10 + _publicAddress}";

    /// <summary>Each server's VXLAN device (routed).</summary>
    public string VxlanInterface => $"mvx{_id}";

    /// <summary>Server <paramref name="index"/>'s interface towards the router.</summary>
    public string ServerInterface(int index) => $"p{index}{_id}b";

    /// <summary>
    /// Writes server <paramref name="index"/>'s <c>mallard steer</c> configuration (its ID, the
    /// other two as peers, config 0 with <paramref name="nonceLength"/> and, when given, the AES
    /// <paramref name="key"/>) and returns its path.
    /// </summary>
    public string SteeringConfig(int index, string mode, int nonceLength, string? key)
    {
        string keyField = key is null ? string.Empty : $", \"Key\": \"{key}\"";
        string peers = string.Join(", ", Enumerable.Range(0, 3).Where(i => i != index)
            .Select(i => $$"""{ "Mac": "{{_macs[i]}}", {{(_routed ? $"\"Address\": \"{_nextHops[i]}\", " : string.Empty)}}"ServerIds": { "0": "{{ServerIds[i]}}" } }"""));
        string encapsulation = _routed ? $", \"Encapsulation\": {{ \"Address\": \"{_nextHops[index]}\" }}" : string.Empty;
        string path = Path.Combine(_folder, $"steer-{index}.json");
        File.WriteAllText(path, $$"""
            { "Mallard": {
              "Balancer": { "Configs": [ { "Id": 0, "ServerIdLength": 4, "NonceLength": {{nonceLength}}{{keyField}} } ] },
              "Steering": { "Interface": "{{ServerInterface(index)}}", "ServicePort": 4433, "Mode": "{{mode}}", "Admin": "off",
                "ServerIds": { "0": "{{ServerIds[index]}}" }, "Peers": [ {{peers}} ]{{encapsulation}} } } }
            """);
        return path;
    }

    /// <summary>The server the router sends the client to (the most packets).</summary>
    public int Carrier()
    {
        long[] routed = Routed();
        return Array.IndexOf(routed, routed.Max());
    }

    /// <summary>Takes server <paramref name="index"/> out of the ECMP route (it keeps running).</summary>
    public void Drain(int index)
    {
        string[] hops = [.. Enumerable.Range(0, 3).Where(i => i != index).SelectMany(i => new[] { "nexthop", "via", _nextHops[i] })];
        Router.Exec(["ip", "route", "replace", $"{ServiceAddress}/32", .. hops]);
    }

    /// <summary>
    /// Moves the client to new public addresses (a new SNAT rule and the NAT's connection
    /// tracking flushed, as a NAT that forgot a mapping) until the router sends it to a server
    /// other than the one it used. Each try is reported to <paramref name="progress"/>: the
    /// public address and the server it reached. The number of moves, and the server the client
    /// reaches now.
    /// </summary>
    /// <exception cref="CliException">No public address hashed elsewhere.</exception>
    public async Task<(int Moves, int Server)> RebindUntilAnotherServerAsync(Action<string, int> progress, CancellationToken stop)
    {
        int carrier = Carrier();
        var tries = new StringBuilder();
        for (int attempt = 1; attempt < PublicAddresses; attempt++)
        {
            _publicAddress = attempt;
            Nat.Exec("nft", $"flush chain ip mallard post; add rule ip mallard post ip saddr 10.79.0.0/24 snat to {PublicAddress}");
            Nat.Exec("conntrack", "-F");
            await Task.Delay(150, stop).ConfigureAwait(false);
            long[] before = Routed();
            await Task.Delay(600, stop).ConfigureAwait(false);
            long[] after = Routed();
            long toCarrier = after[carrier] - before[carrier];
            long elsewhere = after.Sum() - before.Sum() - toCarrier;
            int now = Enumerable.Range(0, 3).MaxBy(i => after[i] - before[i]);
            progress(PublicAddress, now);
            if (elsewhere >= 1 && toCarrier == 0)
            {
                return (attempt, now);
            }

            tries.Append(CultureInfo.InvariantCulture, $" {toCarrier}/{elsewhere}");
        }

        throw new CliException($"no public address of {PublicAddresses - 1} hashed to another server (packets to the first / elsewhere:{tries})");
    }

    public void Dispose()
    {
        _namespaces.ForEach(n => n.Dispose());
        Directory.Delete(_folder, recursive: true);
    }

    // Packets the router forwarded to the service address, by next hop (server).
    private long[] Routed()
    {
        string rules = Router.Exec("nft", "list chain ip mallard routed");
        var counts = new long[3];
        foreach (Match match in RoutedCounter().Matches(rules))
        {
            counts[Array.IndexOf(_nextHops, match.Groups[1].Value)] = long.Parse(match.Groups[2].Value, CultureInfo.InvariantCulture);
        }

        return counts;
    }

    private DemoNamespace Add(string role)
    {
        var created = new DemoNamespace($"mst-{role}-{_id}");
        _namespaces.Add(created);
        return created;
    }

    // A veth pair named {name}{id}a (in left) and {name}{id}b (in right).
    private void Link(DemoNamespace left, string? leftAddress, DemoNamespace right, string rightAddress, string name) =>
        DemoNamespace.Link(left, $"{name}{_id}a", leftAddress, right, $"{name}{_id}b", rightAddress);

    [GeneratedRegex("nexthop (10\\.79\\.[0-9.]+) counter packets (\\d+)")]
    private static partial Regex RoutedCounter();
}
