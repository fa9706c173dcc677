using System.Text;
using System.Text.Json;
using Mallard.TestSupport;

namespace Mallard.Cli.Tests.Interop;

/// <summary>
/// Path MTU discovery on a real link (RFC 9000 section 14.3, RFC 8899): client and server in two
/// network namespaces joined by a veth pair whose MTU is 1400, so a UDP payload of at most 1372
/// octets fits in IPv4. A download must arrive intact, every Mallard side must settle just under
/// 1372 octets, and only probes (PING and PADDING) may be larger.
/// </summary>
public class PathMtuInteropTests
{
    private const int LinkMtu = 1_400;
    private const int LargestPayload = LinkMtu - 20 - 8; // IPv4 and UDP headers

    [Theory]
    [InlineData(InteropPeer.Mallard, InteropPeer.Mallard)]
    [InlineData(InteropPeer.QuicGo, InteropPeer.Mallard)]
    [InlineData(InteropPeer.Mallard, InteropPeer.QuicGo)]
    public async Task ADownloadOverANarrowLinkFindsItsMtu(InteropPeer client, InteropPeer server)
    {
        Assert.True(NetworkNamespace.IsRoot, "the test creates network namespaces and needs root (CI runs as root)");
        using var run = new InteropRun("transfer", linkMtu: LinkMtu);
        run.AddFile("big", 20_000_000); // long enough for the receiver too to finish its search
        await run.StartServerAsync(server);
        (int exitCode, string output) = await run.RunClientAsync(client, TimeSpan.FromSeconds(60));
        Assert.True(exitCode == 0, $"client exit {exitCode}: {output}\nserver: {run.ServerOutput}");
        Assert.Empty(run.Mismatches());
        await Task.Delay(200); // the server's qlog ends when its connection does

        string[] qlogs = Directory.GetFiles(run.MallardQlogDirectory, "*.sqlog");
        Assert.Equal((client == InteropPeer.Mallard ? 1 : 0) + (server == InteropPeer.Mallard ? 1 : 0), qlogs.Length);
        foreach (string qlog in qlogs)
        {
            List<JsonElement> events = ReadEvents(qlog);
            int[] discovered = [.. events.Where(e => Name(e) == "connectivity:mtu_updated").Select(e => e.GetProperty("data").GetProperty("new").GetInt32())];
            Assert.NotEmpty(discovered);
            Assert.InRange(discovered[^1], LargestPayload - 15, LargestPayload);

            // Anything larger than the link carries was a probe: an ACK at most beside the PING.
            foreach (JsonElement sent in events.Where(e => Name(e) == "transport:packet_sent" && Length(e) > LargestPayload))
            {
                string[] frames = [.. sent.GetProperty("data").GetProperty("frames").EnumerateArray().Select(f => f.GetProperty("frame_type").GetString()!)];
                Assert.Contains("ping", frames);
                Assert.All(frames, f => Assert.Contains(f, (string[])["ping", "ack", "padding"]));
            }
        }
    }

    [Fact]
    public async Task ABalancerInFrontDropsAProbeTooLargeForItsLinkToTheServer()
    {
        // Client --1500-- mallard lb --1400-- server. The client's probes fit its own link; the
        // balancer must not fragment the ones too large for the next hop (Don't Fragment on its
        // upstream socket), or the client would settle at 1452 and every large packet would
        // reach the server in two IP fragments.
        Assert.True(NetworkNamespace.IsRoot, "the test creates network namespaces and needs root (CI runs as root)");
        using var run = new InteropRun("transfer", linkMtu: LinkMtu, throughBalancer: true);
        run.AddFile("big", 20_000_000);
        await run.StartServerAsync(InteropPeer.Mallard);
        await run.StartBalancerAsync();
        (int exitCode, string output) = await run.RunClientAsync(InteropPeer.Mallard, TimeSpan.FromSeconds(60));
        Assert.True(exitCode == 0, $"client exit {exitCode}: {output}\nserver: {run.ServerOutput}");
        Assert.Empty(run.Mismatches());

        string clientQlog = Assert.Single(Directory.GetFiles(run.MallardQlogDirectory, "*_client.sqlog"));
        int[] discovered = [.. ReadEvents(clientQlog).Where(e => Name(e) == "connectivity:mtu_updated").Select(e => e.GetProperty("data").GetProperty("new").GetInt32())];
        Assert.NotEmpty(discovered);
        Assert.InRange(discovered[^1], LargestPayload - 15, LargestPayload);
    }

    private static string Name(JsonElement e) => e.GetProperty("name").GetString()!;

    private static int Length(JsonElement e) => e.GetProperty("data").GetProperty("raw").GetProperty("length").GetInt32();

    private static List<JsonElement> ReadEvents(string path) =>
        [.. Encoding.UTF8.GetString(File.ReadAllBytes(path)).Split('\u001e', StringSplitOptions.RemoveEmptyEntries)
            .Select(record => JsonDocument.Parse(record).RootElement.Clone())
            .Where(e => e.TryGetProperty("name", out _))];
}
