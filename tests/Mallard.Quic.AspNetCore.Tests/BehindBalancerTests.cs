using Mallard.TestSupport;

namespace Mallard.Quic.AspNetCore.Tests;

/// <summary>
/// The deployment Mallard is for: ASP.NET Core apps on Mallard.Quic issuing QUIC-LB connection
/// IDs (<see cref="MallardQuicTransportOptions.ConnectionIdGenerator"/>) behind <c>mallard lb</c>,
/// and a client whose NAT rebinds mid-transfer.
/// </summary>
public class BehindBalancerTests
{
    [Fact]
    public async Task AnUploadThroughTheBalancerSurvivesANatRebinding()
    {
        await using BalancedApps apps = await BalancedApps.StartAsync();
        string upload = ScratchFolder.NewFile("lb-upload", ".bin");
        byte[] body = Http3TestApp.Pattern(30_000_000);
        await File.WriteAllBytesAsync(upload, body);
        string downloads = Path.Combine(Path.GetDirectoryName(upload)!, $"lb-{Guid.NewGuid():N}");
        Directory.CreateDirectory(downloads);
        using RunningProcess client = RunningProcess.Start("/usr/bin/gtlsclient",
            ["--no-quic-dump", "--no-http-dump", "--exit-on-all-streams-close", "--timeout=10s", $"--download={downloads}",
             "-m", "POST", "-d", upload, "--change-local-addr=50ms", "--nat-rebinding", "127.0.0.1", $"{apps.Port}", $"https://127.0.0.1:{apps.Port}/echo"]);
        int exit = await client.WaitForExitAsync(TimeSpan.FromSeconds(60));

        Assert.True(exit == 0, client.Output[^Math.Min(4000, client.Output.Length)..] + apps.BalancerOutput);
        Assert.Contains("Local address is now", client.Output, StringComparison.Ordinal);
        Assert.Equal(body, await File.ReadAllBytesAsync(Path.Combine(downloads, "echo")));
        Assert.Equal(1, apps.A.Requests + apps.B.Requests); // one request, answered by the server that took the connection
    }
}
