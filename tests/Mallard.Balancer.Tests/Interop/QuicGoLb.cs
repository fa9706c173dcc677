using System.Diagnostics;
using System.Security.Cryptography;
using Mallard.Balancer.Tests.TestSupport;

namespace Mallard.Balancer.Tests.Interop;

/// <summary>
/// The quicgo-lb test program (Interop/quicgo-lb/main.go): quic-go 0.29 servers that issue
/// QUIC-LB connection IDs, and a client that checks a transfer. Built once per test run with
/// Debian's Go and quic-go packages (scripts/test.sh installs them).
/// </summary>
internal static class QuicGoLb
{
    private const string GoPath = "/usr/share/gocode";

    private static readonly Lazy<Task<string>> Binary = new(BuildAsync);

    public static Task<string> PathAsync() => Binary.Value;

    /// <summary>Starts a server and waits until it listens.</summary>
    public static async Task<RunningProcess> StartServerAsync(string name, string serverIdHex, int port, params string[] extra)
    {
        string binary = await PathAsync();
        var process = RunningProcess.Start(binary, ["-mode", "server", "-name", name, "-server-id", serverIdHex, "-listen", $"127.0.0.1:{port}", .. extra]);
        if (!await process.WaitForOutputAsync("listening", TimeSpan.FromSeconds(10)))
        {
            process.Dispose();
            throw new InvalidOperationException($"quicgo-lb server {name} did not start: {process.Output}");
        }

        return process;
    }

    private static async Task<string> BuildAsync()
    {
        string source = Path.Combine(AppContext.BaseDirectory, "Interop", "quicgo-lb", "main.go");
        string hash = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(source)))[..16];
        string directory = Path.Combine(Path.GetTempPath(), $"mallard-quicgo-lb-{hash}");
        string binary = Path.Combine(directory, "quicgo-lb");
        if (File.Exists(binary))
        {
            return binary;
        }

        if (!Directory.Exists(Path.Combine(GoPath, "src/github.com/lucas-clemente/quic-go")))
        {
            throw new InvalidOperationException("quic-go is not installed: apt-get install golang-go golang-github-lucas-clemente-quic-go-dev (scripts/test.sh does this).");
        }

        Directory.CreateDirectory(directory);
        File.Copy(source, Path.Combine(directory, "main.go"), overwrite: true);
        var start = new ProcessStartInfo("go", ["build", "-o", binary + ".tmp", "main.go"])
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["GO111MODULE"] = "off";
        start.Environment["GOPATH"] = GoPath;
        start.Environment["CGO_ENABLED"] = "0"; // no C compiler needed on a fresh machine
        start.Environment["GOCACHE"] = Path.Combine(Path.GetTempPath(), "mallard-gocache");
        using Process build = Process.Start(start) ?? throw new InvalidOperationException("cannot start go");
        string errors = await build.StandardError.ReadToEndAsync();
        await build.WaitForExitAsync();
        if (build.ExitCode != 0)
        {
            throw new InvalidOperationException("go build of quicgo-lb failed: " + errors);
        }

        File.Move(binary + ".tmp", binary, overwrite: true);
        return binary;
    }
}
