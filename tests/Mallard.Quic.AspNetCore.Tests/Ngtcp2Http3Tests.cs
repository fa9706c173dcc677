using Mallard.TestSupport;

namespace Mallard.Quic.AspNetCore.Tests;

/// <summary>
/// ngtcp2 0.12's HTTP/3 client (Debian's <c>ngtcp2-client</c>: <c>gtlsclient</c>, ngtcp2 and
/// nghttp3 on GnuTLS) against an ASP.NET Core app on Mallard.Quic: a second QUIC, TLS and HTTP/3
/// implementation beside quic-go, with what its command line offers — several files, ChaCha20,
/// key updates, and connection migration both as a deliberate move and as a NAT rebinding.
/// </summary>
public class Ngtcp2Http3Tests
{
    private const string Client = "/usr/bin/gtlsclient";

    [Fact]
    public async Task SeveralFilesArriveIntact()
    {
        await using Http3TestApp app = await Http3TestApp.StartAsync();
        (string output, string downloads) = await FetchAsync(app, [], app.Url("/bytes/1000000"), app.Url("/bytes/3000000"), app.Url("/hello"));

        Assert.Equal(Http3TestApp.Pattern(1_000_000), await File.ReadAllBytesAsync(Path.Combine(downloads, "1000000")));
        Assert.Equal(Http3TestApp.Pattern(3_000_000), await File.ReadAllBytesAsync(Path.Combine(downloads, "3000000")));
        Assert.Equal("hello over HTTP/3\n", await File.ReadAllTextAsync(Path.Combine(downloads, "hello")));
        Assert.Contains("HTTP stream 8 closed with error code 256", output, StringComparison.Ordinal); // H3_NO_ERROR: a clean end
    }

    [Fact]
    public async Task ChaCha20AndKeyUpdatesCarryADownload()
    {
        await using Http3TestApp app = await Http3TestApp.StartAsync();
        (string output, string downloads) = await FetchAsync(app,
            ["--ciphers=NORMAL:-VERS-ALL:+VERS-TLS1.3:-CIPHER-ALL:+CHACHA20-POLY1305", "--key-update=20ms"], app.Url("/bytes/20000000"));

        Assert.Contains("Negotiated cipher suite is CHACHA20-POLY1305", output, StringComparison.Ordinal);
        Assert.Contains("key update confirmed", output, StringComparison.Ordinal);
        Assert.Equal(Http3TestApp.Pattern(20_000_000), await File.ReadAllBytesAsync(Path.Combine(downloads, "20000000")));
    }

    [Fact]
    public async Task ADownloadSurvivesTheClientMovingToANewAddress()
    {
        await using Http3TestApp app = await Http3TestApp.StartAsync();
        (string output, string downloads) = await FetchAsync(app, ["--change-local-addr=50ms"], app.Url("/bytes/30000000"));

        Assert.Contains("Local address is now", output, StringComparison.Ordinal);
        Assert.Equal(Http3TestApp.Pattern(30_000_000), await File.ReadAllBytesAsync(Path.Combine(downloads, "30000000")));
    }

    /// <summary>
    /// ngtcp2's simulated NAT rebinding: the client's port changes without it saying so. An
    /// upload keeps it sending, and the server validates the new path and follows.
    /// </summary>
    [Fact]
    public async Task AnUploadSurvivesANatRebinding()
    {
        await using Http3TestApp app = await Http3TestApp.StartAsync(KeepsAnUploaderSending);
        string upload = ScratchFolder.NewFile("ngtcp2-upload", ".bin");
        byte[] body = Http3TestApp.Pattern(30_000_000);
        await File.WriteAllBytesAsync(upload, body);

        (string output, string downloads) = await FetchAsync(app, ["-m", "POST", "-d", upload, "--change-local-addr=50ms", "--nat-rebinding"], app.Url("/echo"));

        Assert.Contains("Local address is now", output, StringComparison.Ordinal);
        byte[] echoed = await File.ReadAllBytesAsync(Path.Combine(downloads, "echo"));
        Assert.True(echoed.AsSpan().SequenceEqual(body), $"{echoed.Length} of {body.Length} bytes echoed:\n{Tail(output)}");
    }

    /// <summary>
    /// A rebinding test needs the client to send from its new port, and a client has nothing to
    /// send while it waits for flow-control credit: the server's MAX_STREAM_DATA goes to the port
    /// the NAT forgot, and the connection is silent until it idles out — no server can find a
    /// client that says nothing. A 16 MiB window keeps ngtcp2 sending through the rebinding 50 ms
    /// after its handshake (a 128 KiB one ran out first on a loaded machine).
    /// </summary>
    internal static void KeepsAnUploaderSending(MallardQuicTransportOptions options) =>
        options.ConnectionOptions.InitialStreamReceiveWindow = 16 << 20;

    private static Task<(string Output, string Downloads)> FetchAsync(Http3TestApp app, string[] options, params string[] urls) =>
        FetchAsync(app.Endpoint.Port, options, urls);

    /// <summary>Runs gtlsclient against 127.0.0.1:<paramref name="port"/> until every stream is done; returns its output (without packet and HTTP dumps) and the download folder.</summary>
    internal static async Task<(string Output, string Downloads)> FetchAsync(int port, string[] options, params string[] urls)
    {
        Assert.True(File.Exists(Client), "ngtcp2's client is missing: apt-get install ngtcp2-client (scripts/test.sh does this)");
        string downloads = Path.Combine(Path.GetDirectoryName(ScratchFolder.NewFile("ngtcp2"))!, $"ngtcp2-{Guid.NewGuid():N}");
        Directory.CreateDirectory(downloads);
        using RunningProcess client = RunningProcess.Start(Client,
            ["--no-quic-dump", "--no-http-dump", "--exit-on-all-streams-close", "--timeout=10s", $"--download={downloads}", .. options, "127.0.0.1", $"{port}", .. urls]);
        int exit = await client.WaitForExitAsync(TimeSpan.FromSeconds(60));
        Assert.True(exit == 0, $"gtlsclient exited with {exit}:\n{Tail(client.Output)}");
        return (client.Output, downloads);
    }

    private static string Tail(string output) => output.Length > 4000 ? output[^4000..] : output;
}
