using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Mallard.Cli.Tests.Balancer;

public class LbCommandTests
{
    [Fact]
    public void CheckValidatesAnExample()
    {
        CliRun run = CliRun.Of("lb", "--config", Path.Combine(CliRun.RepositoryRoot, "examples", "lb.json"), "--check");

        Assert.Equal(0, run.ExitCode);
        Assert.StartsWith("configuration is valid: 2 listeners, 2 QUIC-LB configs, 2 backends", run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void CheckValidatesTheBuiltInDefault()
    {
        CliRun run = CliRun.Of("lb", "--check");

        Assert.Equal(0, run.ExitCode);
        Assert.StartsWith("configuration is valid: 1 listeners, 1 QUIC-LB configs, 2 backends", run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void ABadConfigStopsStartUpWithTheFieldInTheMessage()
    {
        string path = WriteConfig(port: 1, backendPort: 4434, serverId: "4141");

        CliRun run = CliRun.Of("lb", "--config", path);

        Assert.Equal(1, run.ExitCode);
        Assert.Equal("mallard: Mallard:Balancer:Backends:0:ServerIds:0: \"4141\" is not a server ID of this config; write exactly 4 octets as 8 hex digits.\n", run.Error.ReplaceLineEndings("\n"));
    }

    [Fact]
    public void AFlowJournalInUseByAnotherBalancerStopsStartUpByName()
    {
        string folder = Directory.CreateTempSubdirectory("mallard-journal-").FullName;
        try
        {
            string journal = Path.Combine(folder, "flows");
            string path = Path.Combine(folder, "lb.json");
            File.WriteAllText(path, $$"""
                { "Mallard": { "Balancer": { "Listen": [ "127.0.0.1:0" ], "Admin": "off",
                  "Configs": [ { "Id": 0, "ServerIdLength": 4, "NonceLength": 8 } ],
                  "Backends": [ { "Address": "127.0.0.1:4434", "ServerIds": { "0": "41414141" } } ],
                  "Health": { "Enabled": false }, "Proxy": { "FlowJournal": "{{journal}}" } } } }
                """);

            // Another balancer holds the journal (its lock is the file's, as FileShare.None takes it).
            using (new FileStream(journal, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None))
            {
                CliRun run = CliRun.Of("lb", "--config", path);
                Assert.Equal(1, run.ExitCode);
                Assert.EndsWith($"mallard: Mallard:Balancer:Proxy:FlowJournal: the flow journal {journal} is in use by another process (one balancer per journal file).\n", run.Error.ReplaceLineEndings("\n"), StringComparison.Ordinal);
            }
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>
    /// The real process: it forwards, reloads when the file changes and on SIGHUP, keeps the
    /// running configuration when the new one is invalid, and stops cleanly on SIGTERM.
    /// </summary>
    [Fact]
    public async Task TheProcessReloadsOnFileChangeAndSighupAndStopsOnSigterm()
    {
        using var backendA = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        using var backendB = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        int listenPort = Mallard.TestSupport.FreePorts.Udp();
        string path = WriteConfig(listenPort, ((IPEndPoint)backendA.Client.LocalEndPoint!).Port, "41414141");

        using var process = Process.Start(new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "mallard.dll"), "lb", "--config", path])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        var log = new StringBuilder();
        process.OutputDataReceived += (_, line) => { lock (log) { log.AppendLine(line.Data); } };
        process.ErrorDataReceived += (_, line) => { lock (log) { log.AppendLine(line.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            Assert.True(await Eventually(() => Logged(log, "Listening on")), Snapshot(log));
            using var client = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
            byte[] toA = [0x40, 0x00, 0x41, 0x41, 0x41, 0x41, 1, 2, 3, 4, 5, 6, 7, 8, .. new byte[30]];
            await client.SendAsync(toA, new IPEndPoint(IPAddress.Loopback, listenPort));
            UdpReceiveResult atA = await backendA.ReceiveAsync().WaitAsync(TimeSpan.FromSeconds(5));
            Assert.Equal(toA, atA.Buffer);

            // An invalid edit is rejected and logged; the balancer keeps running.
            File.WriteAllText(path, File.ReadAllText(path).Replace("\"41414141\"", "\"41\"", StringComparison.Ordinal));
            Assert.True(await Eventually(() => Logged(log, "reload rejected")), Snapshot(log));

            // A valid edit (the backend moves) is applied on SIGHUP, if not already by the watcher.
            File.WriteAllText(path, File.ReadAllText(WriteConfig(listenPort, ((IPEndPoint)backendB.Client.LocalEndPoint!).Port, "41414141")));
            Assert.Equal(0, kill(process.Id, 1));
            Assert.True(await Eventually(() => Logged(log, "Configuration reloaded")), Snapshot(log));
            await client.SendAsync(toA, new IPEndPoint(IPAddress.Loopback, listenPort));
            UdpReceiveResult atB = await backendB.ReceiveAsync().WaitAsync(TimeSpan.FromSeconds(5));
            Assert.Equal(toA, atB.Buffer);

            Assert.Equal(0, kill(process.Id, 15));
            Assert.True(process.WaitForExit(10_000));
            process.WaitForExit(); // drains the redirected output
            Assert.Equal(0, process.ExitCode);
            Assert.True(Logged(log, "Stopped;"), Snapshot(log));
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill();
            }
        }
    }

    /// <summary>
    /// As systemd runs it (Type=notify, ExecReload sending SIGUSR2): the balancer says READY=1
    /// with its process ID; SIGUSR2 starts a successor that takes over and names itself the main
    /// process, while the configuration file changes and SIGHUP arrives in the middle (the
    /// successor reads the new file); SIGTERM then ends the successor with STOPPING=1.
    /// </summary>
    [Fact]
    public async Task UnderSystemdASuccessorStartedBySigusr2TakesOverAndBecomesTheMainProcess()
    {
        using var backendA = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        using var backendB = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        string folder = Directory.CreateTempSubdirectory("mallard-systemd-").FullName;
        string notifyPath = Path.Combine(folder, "notify");
        using var notify = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        notify.Bind(new UnixDomainSocketEndPoint(notifyPath));
        int listenPort = Mallard.TestSupport.FreePorts.Udp();
        string proxy = $$""", "Proxy": { "HandOverSocket": "{{Path.Combine(folder, "handover")}}" }""";
        string path = WriteConfig(listenPort, ((IPEndPoint)backendA.Client.LocalEndPoint!).Port, "41414141", proxy);
        var start = new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "mallard.dll"), "lb", "--config", path])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["NOTIFY_SOCKET"] = notifyPath;
        using var process = Process.Start(start)!;
        var log = new StringBuilder();
        process.OutputDataReceived += (_, line) => { lock (log) { log.AppendLine(line.Data); } };
        process.ErrorDataReceived += (_, line) => { lock (log) { log.AppendLine(line.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        int successor = 0;
        try
        {
            Assert.Equal($"READY=1\nMAINPID={process.Id}", await ReceiveAsync(notify, log));
            Assert.True(await Eventually(() => Logged(log, "Waiting for a successor")), Snapshot(log));

            // The backend moves in the file; the upgrade and a reload are asked for at once.
            File.WriteAllText(path, File.ReadAllText(WriteConfig(listenPort, ((IPEndPoint)backendB.Client.LocalEndPoint!).Port, "41414141", proxy)));
            Assert.Equal(0, kill(process.Id, 12));
            Assert.Equal(0, kill(process.Id, 1));
            string ready = await ReceiveAsync(notify, log);
            Assert.True(ready.StartsWith("READY=1\nMAINPID=", StringComparison.Ordinal), ready);
            successor = int.Parse(ready["READY=1\nMAINPID=".Length..], System.Globalization.CultureInfo.InvariantCulture);
            Assert.NotEqual(process.Id, successor);
            Assert.True(process.WaitForExit(10_000), Snapshot(log));
            Assert.Equal(0, process.ExitCode);
            Assert.True(await Eventually(() => Logged(log, $"Took over from process {process.Id}")), Snapshot(log));

            using var client = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
            byte[] toA = [0x40, 0x00, 0x41, 0x41, 0x41, 0x41, 1, 2, 3, 4, 5, 6, 7, 8, .. new byte[30]];
            await client.SendAsync(toA, new IPEndPoint(IPAddress.Loopback, listenPort));
            UdpReceiveResult atB = await backendB.ReceiveAsync().WaitAsync(TimeSpan.FromSeconds(5));
            Assert.Equal(toA, atB.Buffer);

            Assert.Equal(0, kill(successor, 15));
            Assert.Equal("STOPPING=1", await ReceiveAsync(notify, log));
            successor = 0;
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill();
            }

            if (successor != 0)
            {
                kill(successor, 9);
            }

            Directory.Delete(folder, recursive: true);
        }
    }

    private static async Task<string> ReceiveAsync(Socket socket, StringBuilder log)
    {
        byte[] buffer = new byte[512];
        try
        {
            int length = await socket.ReceiveAsync(buffer, SocketFlags.None).WaitAsync(TimeSpan.FromSeconds(30));
            return Encoding.UTF8.GetString(buffer, 0, length);
        }
        catch (TimeoutException)
        {
            return "nothing from the balancer in 30 s; its log:\n" + Snapshot(log);
        }
    }

    [System.Runtime.InteropServices.DllImport("libc", SetLastError = true)]
#pragma warning disable SA1300, CA5392, IDE1006 // libc's own name
    private static extern int kill(int pid, int signal);
#pragma warning restore SA1300, CA5392, IDE1006

    private static bool Logged(StringBuilder log, string text)
    {
        lock (log)
        {
            return log.ToString().Contains(text, StringComparison.OrdinalIgnoreCase);
        }
    }

    private static string Snapshot(StringBuilder log)
    {
        lock (log)
        {
            return log.ToString();
        }
    }

    private static async Task<bool> Eventually(Func<bool> condition)
    {
        for (int i = 0; i < 300 && !condition(); i++)
        {
            await Task.Delay(50);
        }

        return condition();
    }


    private static string WriteConfig(int port, int backendPort, string serverId, string more = "")
    {
        string path = Mallard.TestSupport.ScratchFolder.NewFile("lb-cli");
        File.WriteAllText(path, $$"""
            { "Mallard": { "Balancer": {
              "Listen": [ "127.0.0.1:{{port}}" ], "Admin": "off", "Workers": 1,
              "Configs": [ { "Id": 0, "ServerIdLength": 4, "NonceLength": 8 } ],
              "Backends": [ { "Address": "127.0.0.1:{{backendPort}}", "ServerIds": { "0": "{{serverId}}" } } ],
              "Health": { "Enabled": false }{{more}}
            } } }
            """);
        return path;
    }
}
