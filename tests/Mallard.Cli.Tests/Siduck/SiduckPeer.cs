using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Mallard.TestSupport;

namespace Mallard.Cli.Tests.Siduck;

/// <summary>
/// The two SiDUCK implementations the tests start as processes: <c>mallard siduck</c> and the
/// quicgo-siduck program (Siduck/quicgo-siduck/main.go, quic-go 0.29 from Debian's packages).
/// </summary>
internal static class SiduckPeer
{
    private static readonly Lazy<Task<string>> QuicGoBinary = new(BuildQuicGoAsync);

    public static string MallardDll => Path.Combine(AppContext.BaseDirectory, "mallard.dll");

    public static Task<string> QuicGoAsync() => QuicGoBinary.Value;

    /// <summary>A loopback address with a port that was free a moment ago.</summary>
    public static string FreeLoopbackAddress()
    {
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return probe.LocalEndPoint!.ToString()!;
    }

    /// <summary>Starts a SiDUCK server and waits until it listens.</summary>
    public static async Task<RunningProcess> StartServerAsync(bool quicGo, string address, params string[] extra)
    {
        RunningProcess server = quicGo
            ? RunningProcess.Start(await QuicGoAsync(), ["-mode", "server", "-listen", address])
            : RunningProcess.Start("dotnet", [MallardDll, "siduck", "serve", "--listen", address, .. extra]);
        if (!await server.WaitForOutputAsync("listening on", TimeSpan.FromSeconds(20)))
        {
            server.Dispose();
            throw new InvalidOperationException($"the SiDUCK server did not start: {server.Output}");
        }

        return server;
    }

    private static Task<string> BuildQuicGoAsync()
    {
        string source = Path.Combine(AppContext.BaseDirectory, "Siduck", "quicgo-siduck", "main.go");
        string hash = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(source)))[..16];
        string directory = Path.Combine(Path.GetTempPath(), $"mallard-quicgo-siduck-{hash}");
        Directory.CreateDirectory(directory);
        File.Copy(source, Path.Combine(directory, "main.go"), overwrite: true);
        return GoBuild.BuildAsync("main.go", Path.Combine(directory, "quicgo-siduck"), directory);
    }
}
