using Mallard.TestSupport;

namespace Mallard.Cli.Tests.Interop;

/// <summary>
/// `mallard interop` against quic-go 0.29's interop client and server, in both roles, and against
/// itself, for every supported test case, and in the http3 case against ngtcp2 0.12 too; files
/// compared by SHA-256. Needs root (network namespaces).
/// </summary>
public class InteropTests
{
    public static TheoryData<string, InteropPeer, InteropPeer> Cases()
    {
        var data = new TheoryData<string, InteropPeer, InteropPeer>();
        foreach (string testCase in (string[])["handshake", "transfer", "multiplexing", "retry", "chacha20", "keyupdate", "handshakeloss", "transferloss", "resumption", "zerortt"])
        {
            data.Add(testCase, InteropPeer.Mallard, InteropPeer.QuicGo);
            data.Add(testCase, InteropPeer.QuicGo, InteropPeer.Mallard);
            data.Add(testCase, InteropPeer.Mallard, InteropPeer.Mallard);
        }

        // HTTP/3: Mallard.Http3's client and Kestrel on Mallard.Quic against quic-go's http3 package and ngtcp2/nghttp3.
        foreach ((InteropPeer client, InteropPeer server) in (ReadOnlySpan<(InteropPeer, InteropPeer)>)[
            (InteropPeer.Mallard, InteropPeer.QuicGo), (InteropPeer.QuicGo, InteropPeer.Mallard), (InteropPeer.Mallard, InteropPeer.Mallard),
            (InteropPeer.Mallard, InteropPeer.Ngtcp2), (InteropPeer.Ngtcp2, InteropPeer.Mallard)])
        {
            data.Add("http3", client, server);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task FilesArriveIntact(string testCase, InteropPeer client, InteropPeer server)
    {
        Assert.True(NetworkNamespace.IsRoot, "interop tests create network namespaces and need root (CI runs as root)");
        using var run = new InteropRun(testCase);
        switch (testCase)
        {
            case "multiplexing":
                for (int i = 0; i < 200; i++)
                {
                    run.AddFile($"file{i}", 32 + (i * 7));
                }

                break;
            case "resumption":
            case "zerortt":
                for (int i = 0; i < 3; i++)
                {
                    run.AddFile($"file{i}", 5_000);
                }

                break;
            case "handshakeloss":
                for (int i = 0; i < 6; i++)
                {
                    run.AddFile($"file{i}", 1_000);
                }

                run.DropPercent(20);
                break;
            case "transferloss":
                run.AddFile("big", 2_000_000);
                run.DropPercent(2);
                break;
            case "transfer":
            case "keyupdate":
            case "http3":
                run.AddFile("big", 3_000_000);
                run.AddFile("small", 1_000);
                break;
            default:
                run.AddFile("small", 1_000);
                break;
        }

        await run.StartServerAsync(server);
        (int exitCode, string output) = await run.RunClientAsync(client, TimeSpan.FromSeconds(120));
        Assert.True(exitCode == 0, $"client exit {exitCode}: {output}\nserver: {run.ServerOutput}");
        Assert.Empty(run.Mismatches());
        if (client == InteropPeer.Mallard && testCase == "keyupdate")
        {
            Assert.DoesNotContain(" 0 key updates", output, StringComparison.Ordinal);
        }

        if (testCase == "resumption")
        {
            // The second connection resumed, as each side sees it.
            Assert.Contains(client == InteropPeer.Mallard ? "the second resumed: True" : "resumed: True", client == InteropPeer.Mallard ? output : run.ServerOutput, StringComparison.Ordinal);
        }

        if (testCase == "zerortt")
        {
            // The second connection's requests went as early data and the server took them, as each side sees it.
            Assert.Contains(client == InteropPeer.Mallard ? "early data accepted: True" : "resumed: True, early data: True", client == InteropPeer.Mallard ? output : run.ServerOutput, StringComparison.Ordinal);
        }

        if (client == InteropPeer.Mallard && server == InteropPeer.Ngtcp2)
        {
            // nghttp3's encoder uses the dynamic table this client offers: Mallard.Http3's QPACK decoder read it.
            Assert.Matches(" [1-9][0-9]* QPACK dynamic table inserts", output);
        }

        if (client == InteropPeer.Mallard && testCase == "chacha20")
        {
            Assert.Contains("TLS_CHACHA20_POLY1305_SHA256", output, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void BadServerOptionsGiveOneLineNamingTheOption()
    {
        Environment.SetEnvironmentVariable("TESTCASE", "transfer");
        try
        {
            string missing = Path.Combine(Path.GetTempPath(), "mallard-no-such-cert.pem");
            CliRun run = CliRun.Of("interop", "server", "--root", Path.GetTempPath(), "--listen", "127.0.0.1:0", "--cert", missing, "--key", missing);
            Assert.Equal(1, run.ExitCode);
            Assert.StartsWith("mallard: --cert/--key: cannot load", run.Error, StringComparison.Ordinal);

            run = CliRun.Of("interop", "server", "--root", Path.GetTempPath(), "--listen", "not-an-address");
            Assert.Equal(1, run.ExitCode);
            Assert.Contains("--listen", run.Error, StringComparison.Ordinal);
        }
        finally
        {
            Environment.SetEnvironmentVariable("TESTCASE", null);
        }
    }

    [Fact]
    public void UnsupportedTestCasesExitWith127()
    {
        Environment.SetEnvironmentVariable("TESTCASE", "versionnegotiation");
        try
        {
            Assert.Equal(127, CliRun.Of("interop", "client", "--downloads", Path.GetTempPath(), "https://127.0.0.1:443/x").ExitCode);
            Assert.Equal(127, CliRun.Of("interop", "server", "--root", Path.GetTempPath()).ExitCode);
        }
        finally
        {
            Environment.SetEnvironmentVariable("TESTCASE", null);
        }
    }
}
