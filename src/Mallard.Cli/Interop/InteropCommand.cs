using System.CommandLine;
using System.Net;
using Mallard.Cli.Quic;

namespace Mallard.Cli.Interop;

/// <summary>
/// <c>mallard interop server|client</c>: an endpoint that follows the quic-interop-runner
/// conventions (TESTCASE, HTTP/0.9 over ALPN "hq-interop", exit code 127 for unsupported cases).
/// </summary>
internal static class InteropCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var command = new Command("interop", "A quic-interop-runner style endpoint (HTTP/0.9 over ALPN hq-interop, or HTTP/3 for TESTCASE=http3; test case from TESTCASE).");
        command.Subcommands.Add(CreateServer(output, error));
        command.Subcommands.Add(CreateClient(output, error));
        return command;
    }

    private static Command CreateServer(TextWriter output, TextWriter error)
    {
        var root = new Option<DirectoryInfo>("--root") { Description = "Directory whose files are served.", Required = true };
        var listen = new Option<string>("--listen") { Description = "Address to listen on.", DefaultValueFactory = _ => "[::]:443" };
        var cert = new Option<FileInfo?>("--cert") { Description = "PEM certificate (a self-signed one is made without it)." };
        var key = new Option<FileInfo?>("--key") { Description = "PEM private key of --cert." };
        var command = new Command("server", "Serve files over hq-interop until stopped.") { root, listen, cert, key };
        command.SetAction(parse => MallardCommand.Guard(error, () =>
        {
            InteropTestCase? testCase = InteropTestCases.Parse(Environment.GetEnvironmentVariable("TESTCASE"));
            if (testCase is null)
            {
                error.WriteLine($"mallard: unsupported test case \"{Environment.GetEnvironmentVariable("TESTCASE")}\"");
                return InteropTestCases.UnsupportedExitCode;
            }

            IPEndPoint address = QuicCliSupport.ParseEndPoint(parse.GetValue(listen)!, "--listen");
            if (testCase == InteropTestCase.Http3)
            {
                return new InteropHttp3Server(parse.GetValue(root)!, address, parse.GetValue(cert), parse.GetValue(key), output).RunAsync().GetAwaiter().GetResult();
            }

            var server = new InteropServer(parse.GetValue(root)!, address, parse.GetValue(cert), parse.GetValue(key), testCase.Value, output);
            return server.RunAsync().GetAwaiter().GetResult();
        }));
        return command;
    }

    private static Command CreateClient(TextWriter output, TextWriter error)
    {
        var downloads = new Option<DirectoryInfo>("--downloads") { Description = "Directory the files are saved to.", Required = true };
        var insecure = new Option<bool>("--insecure", "-k") { Description = "Accept any server certificate." };
        var urls = new Argument<string[]>("url") { Description = "https:// URLs to fetch.", Arity = ArgumentArity.OneOrMore };
        var command = new Command("client", "Fetch files over hq-interop.") { downloads, insecure, urls };
        command.SetAction(parse => MallardCommand.Guard(error, () =>
        {
            InteropTestCase? testCase = InteropTestCases.Parse(Environment.GetEnvironmentVariable("TESTCASE"));
            if (testCase is null)
            {
                error.WriteLine($"mallard: unsupported test case \"{Environment.GetEnvironmentVariable("TESTCASE")}\"");
                return InteropTestCases.UnsupportedExitCode;
            }

            var client = new InteropClient(parse.GetValue(downloads)!, parse.GetValue(insecure), testCase.Value, output, error);
            return client.RunAsync(parse.GetValue(urls)!).GetAwaiter().GetResult();
        }));
        return command;
    }
}
