using Mallard.TestSupport;

namespace Mallard.Cli.Tests.Demo;

/// <summary><c>mallard demo</c> end to end, in-process on loopback.</summary>
public class DemoTests
{
    [Fact]
    public async Task TheConnectionSurvivesTheRebindingBecauseTheServerFollowsIt()
    {
        CliRun run = await Task.Run(() => CliRun.Of("demo", "--megabytes", "6"));

        Assert.True(run.ExitCode == 0, run.Output + run.Error);
        Assert.Contains("50 %: the client's public address changes", run.Output, StringComparison.Ordinal);
        Assert.Matches("server [AB] sees the client at a new address", run.Output);
        Assert.Contains("100 %: 6,000,000 octets, every octet as sent", run.Output, StringComparison.Ordinal);
        Assert.Contains("the connection survived the rebinding", run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task InPerConnectionModeTheBalancerHidesTheMoveFromTheServer()
    {
        CliRun run = await Task.Run(() => CliRun.Of("demo", "--megabytes", "6", "--return-path", "per-connection"));

        Assert.True(run.ExitCode == 0, run.Output + run.Error);
        Assert.Contains("return path per-connection", run.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("sees the client at a new address", run.Output, StringComparison.Ordinal);
        Assert.Contains("the connection survived the rebinding", run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheDemoShowsWhereItsDashboardIsAndHoldsWhenAsked()
    {
        CliRun run = await Task.Run(() => CliRun.Of("demo", "--megabytes", "2", "--hold", "1"));

        Assert.True(run.ExitCode == 0, run.Output + run.Error);
        Assert.Matches(@"dashboard http://127\.0\.0\.1:\d+/ ", run.Output);
        Assert.Contains("holding   telemetry keeps flowing for 1 s", run.Output, StringComparison.Ordinal);
        Assert.Contains("the connection survived the rebinding", run.Output, StringComparison.Ordinal);
    }

    /// <summary>
    /// <c>mallard demo --http3</c>: Kestrel apps on Mallard.Quic behind the balancer, an HTTP/3
    /// download across the rebinding, and a ticket from one server resuming on the other.
    /// </summary>
    [Fact]
    public async Task TheHttp3DemoSurvivesTheRebindingAndTheFleetResumesTheSession()
    {
        CliRun run = await Task.Run(() => CliRun.Of("demo", "--http3", "--megabytes", "6"));

        Assert.True(run.ExitCode == 0, run.Output + run.Error);
        Assert.Matches("HTTP/3 GET /download/6000000: 200, served by [AB]", run.Output);
        Assert.Contains("50 %: the client's public address changes", run.Output, StringComparison.Ordinal);
        Assert.Contains("100 %: 6,000,000 octets, every octet as sent, on one connection across the rebinding", run.Output, StringComparison.Ordinal);
        Assert.Matches("served by ([AB]), TLS session resumed with the ticket (?!\\1)[AB] issued", run.Output);
        Assert.Contains("the HTTP/3 download survived the rebinding, and the fleet resumed the session", run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void TheHttp3DemoRefusesOptionsItHasNoUseFor()
    {
        CliRun run = CliRun.Of("demo", "--http3", "--hold", "5");
        Assert.Equal(1, run.ExitCode);
        Assert.Equal("mallard: --http3 goes with --megabytes only.", run.Error.Trim());
    }

    /// <summary>
    /// <c>mallard demo --steering</c> as a user runs it (root; a real process, whose children run
    /// the same program inside the namespaces it makes), in XDP and in user space.
    /// </summary>
    [Theory]
    [InlineData(null, false)]
    [InlineData("user", false)]
    [InlineData(null, true)]
    public async Task WithSteeringTheConnectionSurvivesBehindAFourTupleRouter(string? mode, bool routed)
    {
        Assert.True(Environment.UserName == "root", "mallard demo --steering makes network namespaces and loads XDP programs; it needs root (CI runs as root)");
        string[] steering = [.. mode is null ? ["--steering"] : new[] { "--steering", mode }, .. routed ? ["--routed"] : Array.Empty<string>()];
        using RunningProcess demo = RunningProcess.Start("dotnet", [MallardProcess.Dll, "demo", .. steering]);
        int exit = await demo.WaitForExitAsync(TimeSpan.FromSeconds(120));
        Assert.True(exit == 0, demo.Output);
        // auto: generic XDP on these veths, user space once servers are on other segments.
        Assert.Contains(mode is null && !routed ? "mallard steer on every server (generic XDP)" : "mallard steer on every server (in user space)", demo.Output, StringComparison.Ordinal);
        Assert.Contains(routed ? "each server on a segment of its own; steered packets travel in VXLAN" : "one L2 segment", demo.Output, StringComparison.Ordinal);
        Assert.Matches(@"NAT       the client's public address is now 10\.79\.1\.\d+: the router sends it to server [ABC]", demo.Output);
        Assert.Matches(@"steering  server [ABC]: [1-9]\d* packets steered to another server", demo.Output);
        Assert.Contains("the connection survived the rebinding", demo.Output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--steering", "sideways", "mallard: --steering sideways: the mode is auto, native, generic or user.")]
    [InlineData("--routed", "true", "mallard: --routed goes with --steering.")]
    [InlineData("--hold", "0", "mallard: --hold 0 is out of range; it must be 1 to 86400 seconds, or nothing to hold until stopped.")]
    [InlineData("--megabytes", "0", "mallard: --megabytes 0 is out of range; it must be 1 to 10000.")]
    [InlineData("--return-path", "sideways", "mallard: --return-path \"sideways\" is not per-client-address or per-connection.")]
    public void BadOptionsNameTheOptionAndWhatIsAllowed(string option, string value, string message)
    {
        CliRun run = CliRun.Of("demo", option, value);
        Assert.Equal(1, run.ExitCode);
        Assert.Equal(message, run.Error.Trim());
    }
}
