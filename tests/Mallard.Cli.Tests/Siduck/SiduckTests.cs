using System.Text.Json;
using Mallard.TestSupport;

namespace Mallard.Cli.Tests.Siduck;

/// <summary>
/// <c>mallard siduck</c> against itself and against quic-go 0.29 in both roles, the 0x101 close
/// for a wrong payload, qlog output, and a tshark capture decrypted with the key log.
/// </summary>
public class SiduckTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task MallardQuacksAndGetsEveryQuackAck(bool quicGoServer)
    {
        string address = SiduckPeer.FreeLoopbackAddress();
        using RunningProcess server = await SiduckPeer.StartServerAsync(quicGoServer, address);

        CliRun run = await Task.Run(() => CliRun.Of("siduck", "quack", address, "-k", "--count", "5", "--interval", "10"));

        Assert.True(run.ExitCode == 0, $"{run.Output}{run.Error}\nserver: {server.Output}");
        Assert.Contains("ALPN siduck", run.Output, StringComparison.Ordinal);
        Assert.Equal(5, run.Output.Split('\n').Count(line => line.StartsWith("quack-ack from", StringComparison.Ordinal)));
        Assert.Contains("5 quacks sent, 5 quack-acks received, 0% lost, rtt min/avg/p50/max = ", run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task QuicGoQuacksAtMallard()
    {
        string address = SiduckPeer.FreeLoopbackAddress();
        using RunningProcess server = await SiduckPeer.StartServerAsync(quicGo: false, address);
        using RunningProcess client = RunningProcess.Start(await SiduckPeer.QuicGoAsync(), ["-mode", "client", "-server", address, "-count", "4"]);

        int exitCode = await client.WaitForExitAsync(TimeSpan.FromSeconds(30));

        Assert.True(exitCode == 0, $"{client.Output}\nserver: {server.Output}");
        Assert.Contains("4 of 4 acked", client.Output, StringComparison.Ordinal);
        Assert.True(await server.WaitForOutputAsync("closed after 4 quacks", TimeSpan.FromSeconds(10)), server.Output);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AServerClosesAMallardClientThatDoesNotQuackWith0x101(bool quicGoServer)
    {
        string address = SiduckPeer.FreeLoopbackAddress();
        using RunningProcess server = await SiduckPeer.StartServerAsync(quicGoServer, address);

        // A generous wait for the answer: a freshly started server compiles its close path on first
        // use, and on a loaded 2-core runner that once took longer than the default second.
        CliRun run = await Task.Run(() => CliRun.Of("siduck", "quack", address, "-k", "--message", "moo", "--timeout", "10000"));

        Assert.Equal(1, run.ExitCode);
        Assert.Contains("the server closed the connection with 0x101 (SIDUCK_ONLY_QUACKS_ECHO)", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MallardClosesAQuicGoClientThatDoesNotQuackWith0x101()
    {
        string address = SiduckPeer.FreeLoopbackAddress();
        using RunningProcess server = await SiduckPeer.StartServerAsync(quicGo: false, address);
        using RunningProcess client = RunningProcess.Start(await SiduckPeer.QuicGoAsync(), ["-mode", "client", "-server", address, "-count", "1", "-message", "moo"]);

        Assert.Equal(3, await client.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        Assert.Contains("closed by peer with application error 0x101", client.Output, StringComparison.Ordinal);
        Assert.True(await server.WaitForOutputAsync("\"moo\" is not a quack; closing with 0x101", TimeSpan.FromSeconds(10)), server.Output);
    }

    [Fact]
    public async Task BothSidesWriteAQlogWithTheDatagramFrames()
    {
        string directory = Directory.CreateTempSubdirectory("mallard-siduck-qlog-").FullName;
        try
        {
            string address = SiduckPeer.FreeLoopbackAddress();
            using (RunningProcess server = await SiduckPeer.StartServerAsync(false, address, "-q", Path.Combine(directory, "server")))
            {
                CliRun run = await Task.Run(() => CliRun.Of("siduck", "quack", address, "-k", "-q", Path.Combine(directory, "client")));
                Assert.Equal(0, run.ExitCode);
                Assert.True(await server.WaitForOutputAsync("closed after 1 quack", TimeSpan.FromSeconds(10)), server.Output);

                // Stopped (SIGTERM, handled like Ctrl-C): the server closes its connections and finishes their qlogs.
                server.Terminate();
                int exit = await server.WaitForExitAsync(TimeSpan.FromSeconds(10));
                Assert.True(exit == 0, $"exit {exit}: {server.Output}");
            }

            string serverLog = await ReadWhenClosedAsync(Path.Combine(directory, "server"));
            string clientLog = await ReadWhenClosedAsync(Path.Combine(directory, "client"));
            Assert.Contains(DatagramFrames(clientLog, "transport:packet_sent"), length => length == 5);
            Assert.Contains(DatagramFrames(clientLog, "transport:packet_received"), length => length == 9);
            Assert.Contains(DatagramFrames(serverLog, "transport:packet_received"), length => length == 5);
            Assert.Contains(DatagramFrames(serverLog, "transport:packet_sent"), length => length == 9);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task TsharkDecryptsACapturedExchangeWithTheKeyLogAndFindsTheDatagrams()
    {
        Assert.True(NetworkNamespace.IsRoot, "the capture runs in a network namespace the test creates and needs root (CI runs as root)");
        string directory = Directory.CreateTempSubdirectory("mallard-siduck-tshark-").FullName;
        string capture = Path.Combine(directory, "siduck.pcapng");
        string keys = Path.Combine(directory, "keys.log");
        using var network = new NetworkNamespace($"msdk-{Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(3))}");
        try
        {
            using (RunningProcess tshark = RunningProcess.Start("ip", network.Wrap("tshark", "-i", "lo", "-f", "udp port 4433", "-w", capture)))
            {
                Assert.True(await tshark.WaitForOutputAsync("Capturing on", TimeSpan.FromSeconds(30)), tshark.Output);
                using RunningProcess server = RunningProcess.Start("ip", network.Wrap("env", $"SSLKEYLOGFILE={keys}", "dotnet", SiduckPeer.MallardDll, "siduck", "serve", "--listen", "127.0.0.1:4433"));
                Assert.True(await server.WaitForOutputAsync("listening on", TimeSpan.FromSeconds(20)), server.Output);
                using RunningProcess client = RunningProcess.Start("ip", network.Wrap("env", $"SSLKEYLOGFILE={keys}", "dotnet", SiduckPeer.MallardDll, "siduck", "quack", "127.0.0.1:4433", "-k", "--count", "3", "--interval", "20"));
                Assert.True(await client.WaitForExitAsync(TimeSpan.FromSeconds(30)) == 0, client.Output);
                await Task.Delay(500); // let dumpcap write the last packets before it is stopped
                tshark.Interrupt();
                await tshark.WaitForExitAsync(TimeSpan.FromSeconds(10));
            }

            string fields = NetworkNamespace.Run(
                "tshark", "-r", capture, "-o", $"tls.keylog_file:{keys}", "-Y", "quic.frame_type == 0x30 || quic.frame_type == 0x31",
                "-T", "fields", "-e", "udp.dstport", "-e", "quic.dg.length", "-e", "quic.dg");
            string[] datagrams = fields.Split('\n', StringSplitOptions.RemoveEmptyEntries);

            // Three quacks towards the server (5 octets, "quack") and three quack-acks back (9 octets, "quack-ack").
            Assert.Equal(3, datagrams.Count(line => line == "4433\t5\t717561636b"));
            Assert.Equal(3, datagrams.Count(line => line.EndsWith("\t9\t717561636b2d61636b", StringComparison.Ordinal)));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Theory]
    [InlineData("--count", "0", "--count 0 is out of range; it must be 1 to 1000000.")]
    [InlineData("--timeout", "0", "--timeout 0 is out of range; it must be 1 to 3600000.")]
    public void BadClientOptionsNameTheOptionAndTheRange(string option, string value, string message)
    {
        CliRun run = CliRun.Of("siduck", "quack", "127.0.0.1:4433", option, value);
        Assert.Equal(1, run.ExitCode);
        Assert.Equal($"mallard: {message}", run.Error.Trim());
    }

    [Fact]
    public void AnUnwritableQlogDirectoryStopsStartUp()
    {
        string file = Path.GetTempFileName();
        try
        {
            CliRun run = CliRun.Of("siduck", "quack", "127.0.0.1:4433", "-q", Path.Combine(file, "qlog"));
            Assert.Equal(1, run.ExitCode);
            Assert.StartsWith($"mallard: --qlog-dir \"{Path.Combine(file, "qlog")}\": cannot write there:", run.Error, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void AServerThatIsNotHostAndPortIsRefused()
    {
        CliRun run = CliRun.Of("siduck", "quack", "no port here");
        Assert.Equal(1, run.ExitCode);
        Assert.StartsWith("mallard: \"no port here\" is not HOST:PORT", run.Error, StringComparison.Ordinal);
    }

    private static async Task<string> ReadWhenClosedAsync(string directory)
    {
        for (int attempt = 0; attempt < 100; attempt++)
        {
            string[] files = Directory.Exists(directory) ? Directory.GetFiles(directory, "*.sqlog") : [];
            if (files.Length == 1 && File.ReadAllText(files[0]).Contains("connectivity:connection_closed", StringComparison.Ordinal))
            {
                return File.ReadAllText(files[0]);
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"no finished qlog in {directory}");
    }

    private static IEnumerable<int> DatagramFrames(string qlog, string eventName) =>
        from record in qlog.Split('\u001e', StringSplitOptions.RemoveEmptyEntries)
        let e = JsonDocument.Parse(record).RootElement
        where e.TryGetProperty("name", out JsonElement name) && name.GetString() == eventName
        from frame in e.GetProperty("data").GetProperty("frames").EnumerateArray()
        where frame.GetProperty("frame_type").GetString() == "datagram"
        select frame.GetProperty("length").GetInt32();
}
