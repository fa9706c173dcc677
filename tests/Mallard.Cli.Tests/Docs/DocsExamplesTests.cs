using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.RegularExpressions;
using Mallard.Balancer.Configuration;
using Mallard.Quic;
using Mallard.Quic.AspNetCore;
using Mallard.TestSupport;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;

namespace Mallard.Cli.Tests.Docs;

/// <summary>
/// Every example in README.md and docs/ works as shown: C# blocks are the code of
/// <see cref="DocSnippets"/> (compiled with the tests, and run here), JSON configurations load,
/// console sessions print what the page says they print, and `mallard lb --check` of an example
/// configuration passes. Of the other shell blocks, the demo is DemoTests' subject, the test
/// suite and packing and installing the tool are what scripts/test.sh itself does, and the rest
/// show a command's syntax.
/// </summary>
public partial class DocsExamplesTests
{
    private static readonly string[] Pages = ["README.md", .. Directory.GetFiles(Path.Combine(CliRun.RepositoryRoot, "docs"), "*.md").Select(p => Path.Combine("docs", Path.GetFileName(p))).Order()];

    [Fact]
    public void EveryCSharpExampleIsCodeThatCompiles()
    {
        string source = File.ReadAllText(Path.Combine(CliRun.RepositoryRoot, "tests", "Mallard.Cli.Tests", "Docs", "DocSnippets.cs"));
        var regions = RegionPattern().Matches(source).Select(m => Normalize(m.Groups["code"].Value)).ToList();
        var usings = source.Split('\n').Where(l => l.StartsWith("using ", StringComparison.Ordinal)).Select(l => l.Trim()).ToHashSet();
        int checkedBlocks = 0;
        foreach ((string page, string code) in Blocks("csharp"))
        {
            string[] lines = code.Split('\n');
            string[] pageUsings = [.. lines.TakeWhile(l => l.StartsWith("using ", StringComparison.Ordinal) || l.Trim().Length == 0).Where(l => l.Trim().Length > 0).Select(l => l.Trim())];
            Assert.All(pageUsings, u => Assert.Contains(u, usings));
            string body = Normalize(string.Join('\n', lines.SkipWhile(l => l.StartsWith("using ", StringComparison.Ordinal) || l.Trim().Length == 0)));
            Assert.True(regions.Contains(body), $"{page}: a C# example is not the code of a region in tests/Mallard.Cli.Tests/Docs/DocSnippets.cs:\n{body}");
            checkedBlocks++;
        }

        Assert.Equal(regions.Count, checkedBlocks); // and no region has lost its page
    }

    [Fact]
    public Task TheReadmeExampleRuns() => DocSnippets.ReadmeQuickExample().WaitAsync(TimeSpan.FromSeconds(30));

    [Fact]
    public async Task TheHttp3ClientExampleRuns()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using X509Certificate2 certificate = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256)
            .CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        WebApplicationBuilder builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().UseKestrelHttpsConfiguration().UseMallardQuic();
        int port = FreePorts.Udp();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, port, listen =>
        {
            listen.Protocols = HttpProtocols.Http3;
            listen.UseHttps(certificate);
        }));
        await using WebApplication app = builder.Build();
        ((IApplicationBuilder)app).Run(context => context.Response.WriteAsync("hello from Kestrel"));
        await app.StartAsync();

        byte[] body = await DocSnippets.Http3ClientExample(new IPEndPoint(IPAddress.Loopback, port)).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal("hello from Kestrel"u8.ToArray(), body);
        await app.StopAsync();
    }

    [Fact]
    public async Task TheResumptionExampleRuns()
    {
        await using QuicListener listener = await QuicListener.ListenAsync(new QuicListenerOptions
        {
            ListenEndPoint = new IPEndPoint(IPAddress.Loopback, 0),
            ApplicationProtocols = ["docs"],
        });
        var options = new QuicClientConnectionOptions { RemoteEndPoint = listener.LocalEndPoint, ApplicationProtocols = ["docs"], SkipCertificateValidation = true };

        // "Using" the first connection here is waiting for the server's first 1-RTT flight, which carries the ticket.
        Assert.True(await DocSnippets.ResumptionExample(options, async connection =>
        {
            for (int i = 0; i < 500 && connection.SessionTicket is null; i++)
            {
                await Task.Delay(10);
            }
        }).WaitAsync(TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public async Task TheEarlyDataExampleRuns()
    {
        await using QuicListener listener = await QuicListener.ListenAsync(new QuicListenerOptions
        {
            ListenEndPoint = new IPEndPoint(IPAddress.Loopback, 0),
            ApplicationProtocols = ["docs"],
            EarlyData = true,
        });
        var options = new QuicClientConnectionOptions { RemoteEndPoint = listener.LocalEndPoint, ApplicationProtocols = ["docs"], SkipCertificateValidation = true };
        QuicSessionTicket ticket;
        await using (QuicConnection first = await QuicConnection.ConnectAsync(options))
        {
            for (int i = 0; i < 500 && first.SessionTicket is null; i++)
            {
                await Task.Delay(10);
            }

            ticket = first.SessionTicket!;
        }

        // The server answers each request stream with its bytes reversed, early or not.
        Task serve = Task.Run(async () =>
        {
            while (true)
            {
                QuicConnection connection = await listener.AcceptConnectionAsync();
                if (!connection.EarlyDataAccepted)
                {
                    continue; // the first connection
                }

                await using QuicStream stream = await connection.AcceptInboundStreamAsync();
                using var request = new MemoryStream();
                await stream.CopyToAsync(request);
                byte[] answer = request.ToArray();
                Array.Reverse(answer);
                await stream.WriteAsync(answer, completeWrites: true);
                await connection.WaitForHandshakeAsync();
                return;
            }
        });

        (byte[] response, bool accepted) = await DocSnippets.EarlyDataExample(options, ticket, "early"u8.ToArray()).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal("ylrae"u8.ToArray(), response);
        Assert.True(accepted);
        await serve.WaitAsync(TimeSpan.FromSeconds(30));
    }

    [Fact]
    public Task TheStreamExampleRuns() => DocSnippets.QuicStreamExample().WaitAsync(TimeSpan.FromSeconds(30));

    [Fact]
    public async Task TheDatagramExampleRuns()
    {
        await using QuicListener listener = await QuicListener.ListenAsync(new QuicListenerOptions
        {
            ListenEndPoint = new IPEndPoint(IPAddress.Loopback, 0),
            ApplicationProtocols = ["docs"],
            ConnectionOptions = new QuicConnectionOptions { EnableDatagrams = true },
        });
        Task<QuicConnection> accepted = listener.AcceptConnectionAsync().AsTask();
        await using QuicConnection client = await QuicConnection.ConnectAsync(new QuicClientConnectionOptions
        {
            RemoteEndPoint = listener.LocalEndPoint,
            ApplicationProtocols = ["docs"],
            EnableDatagrams = true,
            SkipCertificateValidation = true,
        });
        await using QuicConnection server = await accepted;

        // The peer echoes what the example sends (three datagrams; the one with a 20 ms age may
        // expire unsent on a busy machine), then closes, which ends the example's last read.
        Task echo = Task.Run(async () =>
        {
            for (int echoed = 0; echoed < 3; echoed++)
            {
                using var quiet = new CancellationTokenSource(TimeSpan.FromSeconds(echoed == 0 ? 20 : 1));
                try
                {
                    server.SendDatagram(await server.ReadDatagramAsync(quiet.Token));
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }

            await Task.Delay(200);
            await server.CloseAsync(0);
        });
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await DocSnippets.QuicDatagramExample(client, "sample"u8.ToArray(), new byte[1_500], timeout.Token);
        await echo;
    }

    [Fact]
    public void TheConnectionIdExampleRuns() => DocSnippets.CidExample(Convert.FromHexString("8f95f09245765f80256934e50c66207f"));

    [Fact]
    public void EveryJsonConfigurationLoads()
    {
        int loaded = 0;
        foreach ((string page, string json) in Blocks("json"))
        {
            IConfigurationRoot configuration = new ConfigurationBuilder().AddJsonStream(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(json))).Build();
            bool wholeBalancer = configuration.GetSection("Mallard:Balancer:Backends").Exists();
            if (configuration.GetSection(Mallard.Steering.SteeringConfigLoader.SectionPath).Exists())
            {
                Assert.NotEmpty(Mallard.Steering.SteeringConfigLoader.Load(configuration).ServerIds);
            }
            else if (wholeBalancer)
            {
                Assert.NotEmpty(BalancerConfigLoader.Load(configuration).Backends);
            }
            else
            {
                Assert.NotEmpty(QuicLbConfigLoader.Load(configuration));
            }

            loaded++;
            Assert.True(page.Length > 0);
        }

        Assert.True(loaded >= 2, $"only {loaded} JSON examples found");
    }

    [Fact]
    public void EveryConsoleSessionPrintsWhatThePageShows()
    {
        int commands = 0;
        foreach ((string page, string session) in Blocks("console"))
        {
            string[] lines = session.TrimEnd().Split('\n');
            for (int i = 0; i < lines.Length; i++)
            {
                if (!lines[i].StartsWith("$ mallard ", StringComparison.Ordinal))
                {
                    continue;
                }

                string command = lines[i][2..];
                bool showsExit = command.EndsWith("; echo \"exit $?\"", StringComparison.Ordinal);
                command = showsExit ? command[..command.IndexOf(';', StringComparison.Ordinal)] : command;
                var expected = lines.Skip(i + 1).TakeWhile(l => !l.StartsWith("$ ", StringComparison.Ordinal)).ToList();
                CliRun run = CliRun.Of([.. command.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1)]);
                var printed = (run.Output + run.Error).TrimEnd().Split('\n').Where(l => l.Length > 0).ToList();
                if (showsExit)
                {
                    printed.Add($"exit {run.ExitCode}");
                }
                else
                {
                    Assert.True(run.ExitCode == 0, $"{page}: `{command}` exited {run.ExitCode}: {run.Error}");
                }

                Assert.Equal(expected, printed);
                commands++;
            }
        }

        Assert.True(commands >= 3, $"only {commands} console commands found");
    }

    [Fact]
    public void EveryCheckOfAnExampleConfigurationOnAPagePasses()
    {
        int checks = 0;
        foreach ((string page, string script) in Blocks("sh"))
        {
            foreach (string line in script.Split('\n').Select(l => l.Split('#')[0].Trim()))
            {
                if (line.StartsWith("mallard lb --config examples/", StringComparison.Ordinal) && line.EndsWith("--check", StringComparison.Ordinal))
                {
                    string[] args = line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1..];
                    args[2] = Path.Combine(CliRun.RepositoryRoot, args[2]);
                    CliRun run = CliRun.Of(args);
                    Assert.True(run.ExitCode == 0, $"{page}: `{line}` exited {run.ExitCode}: {run.Error}");
                    checks++;
                }
            }
        }

        Assert.True(checks >= 1, "no `mallard lb --config examples/… --check` on any page");
    }

    /// <summary>The fenced blocks of one language on every page.</summary>
    private static IEnumerable<(string Page, string Code)> Blocks(string language)
    {
        foreach (string page in Pages)
        {
            string text = File.ReadAllText(Path.Combine(CliRun.RepositoryRoot, page)).Replace("\r\n", "\n", StringComparison.Ordinal);
            foreach (Match block in FencePattern().Matches(text))
            {
                if (block.Groups["language"].Value == language)
                {
                    yield return (page, block.Groups["code"].Value);
                }
            }
        }
    }

    /// <summary>Lines without their common indentation and trailing spaces, without blank lines at either end.</summary>
    private static string Normalize(string code)
    {
        var lines = code.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n').Select(l => l.TrimEnd()).ToList();
        while (lines.Count > 0 && lines[0].Length == 0)
        {
            lines.RemoveAt(0);
        }

        while (lines.Count > 0 && lines[^1].Length == 0)
        {
            lines.RemoveAt(lines.Count - 1);
        }

        int indent = lines.Where(l => l.Length > 0).Select(l => l.Length - l.TrimStart().Length).DefaultIfEmpty(0).Min();
        return string.Join('\n', lines.Select(l => l.Length >= indent ? l[indent..] : l));
    }

    [GeneratedRegex(@"^```(?<language>\w*)\n(?<code>.*?)^```", RegexOptions.Multiline | RegexOptions.Singleline)]
    private static partial Regex FencePattern();

    [GeneratedRegex(@"#region [^\n]*\n(?<code>.*?)\n\s*#endregion", RegexOptions.Singleline)]
    private static partial Regex RegionPattern();
}
