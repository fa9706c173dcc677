using System.Security.Cryptography;
using Mallard.TestSupport;

namespace Mallard.Quic.AspNetCore.Tests;

/// <summary>
/// quic-go 0.29's HTTP/3 client (QuicGoHttp3/main.go, built from Debian's package source): an
/// independent implementation of HTTP/3 and QPACK to fetch from the Kestrel apps under test.
/// </summary>
internal static class QuicGoHttp3Client
{
    private static readonly Lazy<Task<string>> Binary = new(BuildAsync);

    /// <summary>Runs the client with <paramref name="arguments"/> and returns its exit code and output.</summary>
    public static async Task<(int ExitCode, string Output)> RunAsync(params string[] arguments)
    {
        using RunningProcess client = RunningProcess.Start(await Binary.Value, arguments);
        int exit = await client.WaitForExitAsync(TimeSpan.FromSeconds(90));
        return (exit, client.Output);
    }

    /// <summary>Starts the program's HTTP/3 server (quic-go's http3.Server, which takes 0-RTT) on <paramref name="port"/>, answering GET / with a short text.</summary>
    public static async Task<RunningProcess> StartServerAsync(int port)
    {
        RunningProcess server = RunningProcess.Start(await Binary.Value, ["-listen", $"127.0.0.1:{port}"]);
        if (!await server.WaitForOutputAsync("listening", TimeSpan.FromSeconds(30)))
        {
            server.Dispose();
            throw new InvalidOperationException("quic-go's http3 server did not start");
        }

        return server;
    }

    private static Task<string> BuildAsync()
    {
        string source = Path.Combine(AppContext.BaseDirectory, "QuicGoHttp3", "main.go");
        string hash = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(source)))[..16];
        string directory = Path.Combine(Path.GetTempPath(), $"mallard-quicgo-h3-{hash}");
        Directory.CreateDirectory(directory);
        File.Copy(source, Path.Combine(directory, "main.go"), overwrite: true);
        return GoBuild.BuildAsync("main.go", Path.Combine(directory, "quicgo-h3"), directory);
    }
}
