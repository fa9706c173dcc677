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
        await using BalancedApps apps = await BalancedApps.StartAsync(Ngtcp2Http3Tests.KeepsAnUploaderSending);
        string upload = ScratchFolder.NewFile("lb-upload", ".bin");
        byte[] body = Http3TestApp.Pattern(30_000_000);
        await File.WriteAllBytesAsync(upload, body);

        (string output, string downloads) = await Ngtcp2Http3Tests.FetchAsync(apps.Port, ["-m", "POST", "-d", upload, "--change-local-addr=50ms", "--nat-rebinding"], $"https://127.0.0.1:{apps.Port}/echo");

        Assert.Contains("Local address is now", output, StringComparison.Ordinal);
        byte[] echoed = await File.ReadAllBytesAsync(Path.Combine(downloads, "echo"));
        Assert.True(echoed.AsSpan().SequenceEqual(body), $"{echoed.Length} of {body.Length} bytes echoed:\n{(output.Length > 4000 ? output[^4000..] : output)}");
        Assert.Equal(1, apps.A.Requests + apps.B.Requests); // one request, answered by the server that took the connection
    }
}
