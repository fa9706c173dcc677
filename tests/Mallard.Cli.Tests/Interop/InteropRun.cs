using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Mallard.TestSupport;

namespace Mallard.Cli.Tests.Interop;

/// <summary>
/// One quic-interop-runner style run in a network namespace the test creates: a server and a
/// client (Mallard's `mallard interop`, quic-go 0.29's own interop programs, built from Debian's
/// package source, or ngtcp2's HTTP/3 examples), files to fetch, optional loss from an nftables `numgen random` rule, and a
/// SHA-256 comparison of what arrived. quic-go's programs use fixed paths (/www, /certs,
/// /downloads, /logs); they run under `ip netns exec`, whose private mount namespace lets the
/// harness bind the run's directories there without touching anyone else's view. The empty
/// mount points themselves must exist in the shared file system while a run is under way; the
/// runs share them and the last one out removes those it created.
/// </summary>
internal sealed class InteropRun : IDisposable
{
    private static readonly Lazy<Task<(string Client, string Server)>> QuicGoBinaries = new(BuildQuicGoAsync);

    private readonly NetworkNamespace _namespace;
    private readonly NetworkNamespace? _serverNamespace;
    private readonly NetworkNamespace? _balancerNamespace;
    private readonly string _directory;
    private readonly List<RunningProcess> _processes = [];

    /// <param name="testCase">The interop runner's test case.</param>
    /// <param name="linkMtu">
    /// Null: client and server share one namespace and talk over loopback. Otherwise each has its
    /// own namespace and they talk over a veth pair with this MTU, as two hosts on a narrow link.
    /// </param>
    /// <param name="throughBalancer">
    /// With <paramref name="linkMtu"/>: a third namespace between them runs <c>mallard lb</c>; the
    /// client's link to it has MTU 1500 and only the balancer's link to the server has <paramref name="linkMtu"/>.
    /// </param>
    public InteropRun(string testCase, int? linkMtu = null, bool throughBalancer = false)
    {
        TestCase = testCase;
        string id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3));
        _namespace = new NetworkNamespace($"miop-{id}");
        if (linkMtu is int mtu)
        {
            _serverNamespace = new NetworkNamespace($"miops-{id}");
            if (throughBalancer)
            {
                _balancerNamespace = new NetworkNamespace($"miopb-{id}");
                Link(_namespace, ClientLinkAddress, _balancerNamespace, BalancerFrontAddress, 1_500);
                Link(_balancerNamespace, BalancerBackAddress, _serverNamespace, ServerBehindBalancerAddress, mtu);
                ServerAddress = BalancerFrontAddress;
                ServerListenAddress = ServerBehindBalancerAddress;
            }
            else
            {
                Link(_namespace, ClientLinkAddress, _serverNamespace, ServerLinkAddress, mtu);
                ServerAddress = ServerListenAddress = ServerLinkAddress;
            }
        }

        _directory = Directory.CreateTempSubdirectory("mallard-interop-").FullName;
        foreach (string sub in FixedPaths)
        {
            Directory.CreateDirectory(Path.Combine(_directory, sub));
        }

        AcquireMountPoints();

        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=server", key, HashAlgorithmName.SHA256);
        using X509Certificate2 certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        File.WriteAllText(Path.Combine(_directory, "certs", "cert.pem"), certificate.ExportCertificatePem());
        File.WriteAllText(Path.Combine(_directory, "certs", "priv.key"), key.ExportPkcs8PrivateKeyPem());
    }

    // Addresses on the veth links (documentation ranges, inside the run's own namespaces only).
    private const string ClientLinkAddress = "192.0.2.1";
    private const string ServerLinkAddress = "192.0.2.2";
    private const string BalancerFrontAddress = "192.0.2.2";
    private const string BalancerBackAddress = "198.51.100.1";
    private const string ServerBehindBalancerAddress = "198.51.100.2";

    public string TestCase { get; }

    /// <summary>Where the client connects (port 443): the server, or the balancer in front of it.</summary>
    public string ServerAddress { get; } = "127.0.0.1";

    /// <summary>Where the server listens (port 443).</summary>
    private string ServerListenAddress { get; } = "127.0.0.1";

    /// <summary>The qlog files of this run's Mallard processes (<c>*.sqlog</c>), both roles.</summary>
    public string MallardQlogDirectory => Path.Combine(_directory, "logs", "mallard-qlog");

    private NetworkNamespace ServerNamespace => _serverNamespace ?? _namespace;

    public List<string> Files { get; } = [];

    public string Downloads => Path.Combine(_directory, "downloads");

    /// <summary>Adds a file of random content to serve.</summary>
    public void AddFile(string name, int length)
    {
        File.WriteAllBytes(Path.Combine(_directory, "www", name), RandomNumberGenerator.GetBytes(length));
        Files.Add(name);
    }

    /// <summary>Drops this percentage of all datagrams inside the namespace (netem is unavailable here).</summary>
    public void DropPercent(int percent)
    {
        _namespace.Exec("nft", "add", "table", "inet", "loss");
        // On input, not output: a drop on output fails sendto() with EPERM, which quic-go treats as fatal.
        _namespace.Exec("nft", "add", "chain", "inet", "loss", "in", "{ type filter hook input priority 0 ; }");
        _namespace.Exec("nft", "add", "rule", "inet", "loss", "in", "udp", "dport", "443", "numgen", "random", "mod", "100", "<", percent.ToString(), "drop");
        _namespace.Exec("nft", "add", "rule", "inet", "loss", "in", "udp", "sport", "443", "numgen", "random", "mod", "100", "<", percent.ToString(), "drop");
    }

    public async Task StartServerAsync(InteropPeer peer)
    {
        string www = Path.Combine(_directory, "www");
        RunningProcess server;
        if (peer == InteropPeer.Mallard)
        {
            server = RunningProcess.Start("ip", ServerNamespace.Wrap(
                "env", $"TESTCASE={TestCase}", $"QLOGDIR={MallardQlogDirectory}", "dotnet", MallardDll, "interop", "server",
                "--root", www, "--listen", $"{ServerListenAddress}:443",
                "--cert", Path.Combine(_directory, "certs", "cert.pem"), "--key", Path.Combine(_directory, "certs", "priv.key")));
        }
        else if (peer == InteropPeer.Ngtcp2)
        {
            server = RunningProcess.Start("ip", ServerNamespace.Wrap(
                Ngtcp2Server, "-q", "-d", www, ServerListenAddress, "443", Path.Combine(_directory, "certs", "priv.key"), Path.Combine(_directory, "certs", "cert.pem")));
        }
        else
        {
            (_, string binary) = await QuicGoBinaries.Value;
            server = RunningProcess.Start("ip", ServerNamespace.Wrap("sh", "-c",
                $"mount --bind {www} /www && mount --bind {_directory}/logs /logs && mount --bind {_directory}/certs /certs && exec env TESTCASE={QuicGoServerCase()} QLOGDIR=/logs/qlog {binary}"));
        }

        _processes.Add(server);
        await WaitForListenerAsync(ServerNamespace, server, $"{peer} server");
    }

    private static async Task WaitForListenerAsync(NetworkNamespace where, RunningProcess process, string what)
    {
        long deadline = Environment.TickCount64 + 20_000;
        while (!where.Exec("ss", "-Hnul").Contains(":443", StringComparison.Ordinal))
        {
            if (Environment.TickCount64 > deadline || process.HasExited)
            {
                throw new InvalidOperationException($"the {what} did not start: {process.Output}");
            }

            await Task.Delay(50);
        }
    }

    /// <summary>Joins two namespaces with a veth pair of <paramref name="mtu"/>, one address on each end.</summary>
    private static void Link(NetworkNamespace a, string addressA, NetworkNamespace b, string addressB, int mtu)
    {
        string name = $"v{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3))}";
        a.Exec("ip", "link", "add", name + "a", "mtu", mtu.ToString(), "type", "veth", "peer", "name", name + "b", "mtu", mtu.ToString(), "netns", b.Name);
        a.Exec("ip", "addr", "add", $"{addressA}/24", "dev", name + "a");
        b.Exec("ip", "addr", "add", $"{addressB}/24", "dev", name + "b");
        a.Exec("ip", "link", "set", name + "a", "up");
        b.Exec("ip", "link", "set", name + "b", "up");
    }

    /// <summary>
    /// Starts <c>mallard lb</c> in the balancer's namespace, in front of the server (fallback
    /// hashing, no health checks), and waits until it listens.
    /// </summary>
    public async Task StartBalancerAsync()
    {
        NetworkNamespace balancer = _balancerNamespace ?? throw new InvalidOperationException("this run has no balancer namespace");
        string config = Path.Combine(_directory, "lb.json");
        File.WriteAllText(config, $$"""
            { "Mallard": { "Balancer": {
                "Listen": [ "{{BalancerFrontAddress}}:443" ],
                "Configs": [ { "Id": 0, "ServerIdLength": 4, "NonceLength": 8 } ],
                "Backends": [ { "Address": "{{ServerBehindBalancerAddress}}:443", "ServerIds": { "0": "41414141" } } ],
                "Health": { "Enabled": false } } } }
            """);
        RunningProcess process = RunningProcess.Start("ip", balancer.Wrap("dotnet", MallardDll, "lb", "--config", config));
        _processes.Add(process);
        await WaitForListenerAsync(balancer, process, "balancer");
    }

    /// <summary>Runs the client to completion and returns its exit code and output.</summary>
    public async Task<(int ExitCode, string Output)> RunClientAsync(InteropPeer peer, TimeSpan timeout)
    {
        string[] urls = [.. Files.Select(f => $"https://{ServerAddress}:443/{f}")];
        RunningProcess client;
        if (peer == InteropPeer.Mallard)
        {
            client = RunningProcess.Start("ip", _namespace.Wrap(
                ["env", $"TESTCASE={TestCase}", $"SSLKEYLOGFILE={_directory}/logs/keys.log", $"QLOGDIR={MallardQlogDirectory}", "dotnet", MallardDll, "interop", "client", "-k", "--downloads", Downloads, .. urls]));
        }
        else if (peer == InteropPeer.Ngtcp2)
        {
            client = RunningProcess.Start("ip", _namespace.Wrap(
                [Ngtcp2Client, "-q", "--exit-on-all-streams-close", "--timeout=20s", $"--download={Downloads}", ServerAddress, "443", .. urls]));
        }
        else
        {
            (string binary, _) = await QuicGoBinaries.Value;
            client = RunningProcess.Start("ip", _namespace.Wrap("sh", "-c",
                $"mount --bind {Downloads} /downloads && mount --bind {_directory}/logs /logs && exec env TESTCASE={QuicGoClientCase()} QLOGDIR=/logs/qlog {binary} {string.Join(' ', urls)}"));
        }

        _processes.Add(client);
        int exitCode = await client.WaitForExitAsync(timeout);
        return (exitCode, client.Output);
    }

    /// <summary>Files whose downloaded copy is missing or differs.</summary>
    public List<string> Mismatches() => [.. Files.Where(name =>
    {
        string downloaded = Path.Combine(Downloads, name);
        return !File.Exists(downloaded)
            || !SHA256.HashData(File.ReadAllBytes(downloaded)).AsSpan().SequenceEqual(SHA256.HashData(File.ReadAllBytes(Path.Combine(_directory, "www", name))));
    })];

    public string ServerOutput => _processes.Count > 0 ? _processes[0].Output : "";

    public void Dispose()
    {
        foreach (RunningProcess process in _processes)
        {
            process.Dispose();
        }

        _namespace.Dispose(); // the veth pair goes with it
        _serverNamespace?.Dispose();
        _balancerNamespace?.Dispose();
        ReleaseMountPoints();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static readonly string[] FixedPaths = ["www", "downloads", "logs", "certs"];
    private static readonly Lock MountPointsGate = new();
    private static readonly List<string> MountPointsCreated = [];
    private static int _mountPointUsers;

    /// <summary>Creates the missing mount points for quic-go's fixed paths (the first run in).</summary>
    private static void AcquireMountPoints()
    {
        lock (MountPointsGate)
        {
            if (_mountPointUsers++ > 0)
            {
                return;
            }

            foreach (string sub in FixedPaths)
            {
                string path = "/" + sub;
                if (!Directory.Exists(path))
                {
                    Directory.CreateDirectory(path);
                    MountPointsCreated.Add(path);
                }
            }
        }
    }

    /// <summary>Removes the mount points this process created (the last run out), leaving / as it was.</summary>
    private static void ReleaseMountPoints()
    {
        lock (MountPointsGate)
        {
            if (--_mountPointUsers > 0)
            {
                return;
            }

            foreach (string path in MountPointsCreated)
            {
                try
                {
                    Directory.Delete(path);
                }
                catch (IOException)
                {
                }
            }

            MountPointsCreated.Clear();
        }
    }

    // Debian's ngtcp2-client and ngtcp2-server (scripts/test.sh installs them).
    private const string Ngtcp2Client = "/usr/bin/gtlsclient";
    private const string Ngtcp2Server = "/usr/sbin/gtlsserver";

    private static string MallardDll => Path.Combine(AppContext.BaseDirectory, "mallard.dll");

    private static async Task<(string Client, string Server)> BuildQuicGoAsync()
    {
        string directory = Path.Combine(Path.GetTempPath(), "mallard-quicgo-interop");
        string client = await GoBuild.BuildAsync("github.com/lucas-clemente/quic-go/interop/client", Path.Combine(directory, "client"));
        string server = await GoBuild.BuildAsync("github.com/lucas-clemente/quic-go/interop/server", Path.Combine(directory, "server"));
        return (client, server);
    }

    // quic-go 0.29's interop programs know fewer case names; these give the same behaviour.
    private string QuicGoServerCase() => TestCase is "handshake" or "transfer" or "retry" or "chacha20" or "http3" or "resumption" or "zerortt" ? TestCase : "transfer";

    private string QuicGoClientCase() => TestCase switch
    {
        "handshake" or "transfer" or "retry" or "chacha20" or "keyupdate" or "http3" or "resumption" or "zerortt" => TestCase,
        "handshakeloss" => "multiconnect",
        _ => "transfer",
    };
}
