using System.Net;
using System.Security.Cryptography;
using Mallard.Balancer.Tests.TestSupport;
using Mallard.TestSupport;

namespace Mallard.Balancer.Tests.Interop;

/// <summary>
/// A NAT rebinding as it happens in the field, in network namespaces the test creates: a client
/// namespace behind a NAT namespace (nftables SNAT) in front of a balancer namespace that runs
/// `mallard lb` and three quic-go servers. In the middle of an upload the SNAT rule changes to
/// another address and `conntrack -F` forgets the old mapping, so the balancer sees the client
/// arrive from a new address. Root only.
/// </summary>
[Collection(nameof(QuicGoBehindBalancerTests))]
public sealed class NatRebindingTests
{
    [Theory]
    [InlineData("per-connection", true)]
    [InlineData("client-address", false)]
    public async Task ARebindingClientKeepsItsConnectionOnlyWhenTheBalancerRoutesByConnectionId(string mode, bool survives)
    {
        Assert.True(NetworkNamespace.IsRoot, "this test creates network namespaces and needs root (CI runs as root)");
        string id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3));
        using var client = new NetworkNamespace($"mlb-cl-{id}");
        using var nat = new NetworkNamespace($"mlb-nat-{id}");
        using var lb = new NetworkNamespace($"mlb-lb-{id}");
        NetworkNamespace.Run("ip", "link", "add", $"mc{id}", "netns", client.Name, "type", "veth", "peer", "name", $"mn{id}", "netns", nat.Name);
        NetworkNamespace.Run("ip", "link", "add", $"mo{id}", "netns", nat.Name, "type", "veth", "peer", "name", $"ml{id}", "netns", lb.Name);
        client.Exec("ip", "addr", "add", "10.77.1.2/24", "dev", $"mc{id}");
        client.Exec("ip", "link", "set", $"mc{id}", "up");
        client.Exec("ip", "route", "add", "default", "via", "10.77.1.1");
        nat.Exec("ip", "addr", "add", "10.77.1.1/24", "dev", $"mn{id}");
        nat.Exec("ip", "addr", "add", "10.77.2.1/24", "dev", $"mo{id}");
        nat.Exec("ip", "addr", "add", "10.77.2.3/24", "dev", $"mo{id}");
        nat.Exec("ip", "addr", "add", "10.77.2.4/24", "dev", $"mo{id}");
        nat.Exec("ip", "link", "set", $"mn{id}", "up");
        nat.Exec("ip", "link", "set", $"mo{id}", "up");
        nat.Exec("sh", "-c", "echo 1 > /proc/sys/net/ipv4/ip_forward");
        lb.Exec("ip", "addr", "add", "10.77.2.2/24", "dev", $"ml{id}");
        lb.Exec("ip", "link", "set", $"ml{id}", "up");
        nat.Exec("nft", "add table ip mallard; add chain ip mallard post { type nat hook postrouting priority srcnat; }; add rule ip mallard post ip saddr 10.77.1.0/24 snat to 10.77.2.3");

        string binary = await QuicGoLb.PathAsync();
        string config = WriteConfig(mode);
        using var servers = new DisposableList();
        for (int i = 0; i < 3; i++)
        {
            servers.Add(RunningProcess.Start("ip", lb.Wrap(binary, "-mode", "server", "-name", ((char)('A' + i)).ToString(), "-server-id", $"4{i + 1}4{i + 1}4{i + 1}4{i + 1}", "-listen", $"127.0.0.1:{4434 + i}")));
        }

        using RunningProcess balancer = RunningProcess.Start("ip", lb.Wrap("dotnet", MallardProcess.Dll, "lb", "--config", config));
        Assert.True(await balancer.WaitForOutputAsync("Listening on", TimeSpan.FromSeconds(20)), balancer.Output);

        // The client is silent while paused: a case that should survive gets an idle timeout
        // longer than the pause can last on a loaded machine (the rebinding's commands included);
        // the one that should fail keeps a short one, so that it fails quickly.
        string idle = survives ? "15s" : "4s";
        using RunningProcess quicClient = RunningProcess.Start("ip", client.Wrap(binary, "-mode", "client", "-connect", "10.77.2.2:4433", "-bytes", "4000000", "-pause-at", "1000000", "-idle", idle));
        Assert.True(await quicClient.WaitForOutputAsync("paused", TimeSpan.FromSeconds(30)), quicClient.Output + balancer.Output);

        // The NAT moves the client to another public address and forgets the old mapping.
        nat.Exec("nft", "flush chain ip mallard post; add rule ip mallard post ip saddr 10.77.1.0/24 snat to 10.77.2.4");
        nat.Exec("conntrack", "-F");
        quicClient.WriteLine("go on");
        int exit = await quicClient.WaitForExitAsync(TimeSpan.FromSeconds(60));

        if (survives)
        {
            Assert.True(exit == 0, quicClient.Output + balancer.Output);
            Assert.Contains("bytes=4000000", quicClient.Output, StringComparison.Ordinal);
        }
        else
        {
            Assert.True(exit == 1, quicClient.Output);
        }
    }

    private static string WriteConfig(string mode)
    {
        string routing = mode == "client-address" ? "\"RouteBy\": \"client-address\"," : "\"ReturnPath\": \"per-connection\",";
        string path = ScratchFolder.NewFile("netns");
        File.WriteAllText(path, $$"""
            { "Mallard": { "Balancer": {
              "Listen": [ "10.77.2.2:4433" ], "Admin": "off", "Workers": 2, {{routing}}
              "Configs": [ { "Id": 0, "ServerIdLength": 4, "NonceLength": 8 } ],
              "Backends": [
                { "Address": "127.0.0.1:4434", "ServerIds": { "0": "41414141" } },
                { "Address": "127.0.0.1:4435", "ServerIds": { "0": "42424242" } },
                { "Address": "127.0.0.1:4436", "ServerIds": { "0": "43434343" } } ]
            } } }
            """);
        return path;
    }

    private sealed class DisposableList : List<IDisposable>, IDisposable
    {
        public void Dispose() => ForEach(d => d.Dispose());
    }
}
