using System.Security.Cryptography;

namespace Mallard.TestSupport;

/// <summary>
/// The quicgo-lb test program (tests/Mallard.Balancer.Tests/Interop/quicgo-lb/main.go): quic-go 0.29 servers that issue
/// QUIC-LB connection IDs, and a client that checks a transfer. Built once per test run with
/// Debian's Go and quic-go packages (scripts/test.sh installs them).
/// </summary>
public static class QuicGoLb
{
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

    private static Task<string> BuildAsync()
    {
        string source = Path.Combine(Repository.Root, "tests", "Mallard.Balancer.Tests", "Interop", "quicgo-lb", "main.go");
        string hash = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(source)))[..16];
        string directory = Path.Combine(Path.GetTempPath(), $"mallard-quicgo-lb-{hash}");
        Directory.CreateDirectory(directory);
        File.Copy(source, Path.Combine(directory, "main.go"), overwrite: true);
        return GoBuild.BuildAsync("main.go", Path.Combine(directory, "quicgo-lb"), directory);
    }
}
