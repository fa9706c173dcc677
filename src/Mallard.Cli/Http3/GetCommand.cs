using System.CommandLine;
using System.Net;
using System.Text;
using Mallard.Cli.Quic;
using Mallard.Http3;
using Mallard.Quic;

namespace Mallard.Cli.Http3;

/// <summary>
/// <c>mallard get URL</c>: one HTTP/3 request with Mallard.Http3, as curl does it over TCP — to
/// check a Kestrel app on Mallard.Quic, or a fleet behind <c>mallard lb</c>, from the shell.
/// </summary>
internal static class GetCommand
{
    /// <summary>curl's exit code for an HTTP error with --fail.</summary>
    private const int HttpErrorExitCode = 22;

    public static Command Create(TextWriter output, TextWriter error)
    {
        var url = new Argument<string>("url") { Description = "The https:// URL to fetch over HTTP/3." };
        var insecure = new Option<bool>("--insecure", "-k") { Description = "Accept any server certificate." };
        var include = new Option<bool>("--include", "-i") { Description = "Print the status line and the response headers before the body." };
        var outputFile = new Option<FileInfo?>("--output", "-o") { Description = "Write the body to this file instead of standard output." };
        var connect = new Option<string?>("--connect") { Description = "Send to this HOST:PORT instead of the URL's (the URL still gives the server name and :authority)." };
        var fail = new Option<bool>("--fail", "-f") { Description = "Exit with 22 on an HTTP status of 400 or above, as curl does." };
        var method = new Option<string>("--request", "-X") { Description = "The method.", DefaultValueFactory = _ => "GET" };
        var data = new Option<string?>("--data", "-d") { Description = "A request body (text)." };
        var command = new Command("get", "Fetch a URL over HTTP/3 (Mallard.Http3) and print the body.") { url, insecure, include, outputFile, connect, fail, method, data };
        command.SetAction(parse => MallardCommand.Guard(error, () =>
        {
            Uri target = Uri.TryCreate(parse.GetValue(url), UriKind.Absolute, out Uri? parsed) && parsed.Scheme == Uri.UriSchemeHttps
                ? parsed
                : throw new CliException($"\"{parse.GetValue(url)}\" is not an https:// URL.");
            EndPoint remote = parse.GetValue(connect) is string via
                ? QuicCliSupport.ParseEndPoint(via, "--connect")
                : IPAddress.TryParse(target.Host.Trim('[', ']'), out IPAddress? address) ? new IPEndPoint(address, target.Port) : new DnsEndPoint(target.Host, target.Port);
            string methodName = parse.GetValue(method)!;
            if (methodName.Length == 0 || !methodName.All(c => char.IsAsciiLetterOrDigit(c) || "!#$%&'*+-.^_`|~".Contains(c)))
            {
                throw new CliException($"--request \"{methodName}\" is not an HTTP method (a token such as GET, POST or PUT).");
            }

            var request = new Request(target, remote, parse.GetValue(insecure), new HttpMethod(methodName), parse.GetValue(data));
            return RunAsync(request, parse.GetValue(include), parse.GetValue(outputFile), parse.GetValue(fail), output, error).GetAwaiter().GetResult();
        }));
        return command;
    }

    private sealed record Request(Uri Url, EndPoint Remote, bool Insecure, HttpMethod Method, string? Body);

    private static async Task<int> RunAsync(Request request, bool include, FileInfo? file, bool fail, TextWriter output, TextWriter error)
    {
        try
        {
            await using Http3ClientConnection connection = await Http3ClientConnection.ConnectAsync(new QuicClientConnectionOptions
            {
                RemoteEndPoint = request.Remote,
                ApplicationProtocols = ["h3"],
                ServerName = request.Url.HostNameType == UriHostNameType.Dns ? request.Url.Host : null,
                SkipCertificateValidation = request.Insecure,
                KeyLog = QuicCliSupport.KeyLogFromEnvironment(),
                QlogDirectory = QuicCliSupport.QlogDirectoryFromEnvironment(),
            }).ConfigureAwait(false);
            await using Http3Response response = await connection.SendAsync(request.Method, request.Url, null,
                request.Body is null ? default : Encoding.UTF8.GetBytes(request.Body)).ConfigureAwait(false);
            if (include)
            {
                output.WriteLine($"HTTP/3 {response.StatusCode}");
                foreach ((string name, string value) in response.Headers)
                {
                    output.WriteLine($"{name}: {value}");
                }

                output.WriteLine();
            }

            if (file is not null)
            {
                await using FileStream stream = file.Create();
                await response.Content.CopyToAsync(stream).ConfigureAwait(false);
            }
            else
            {
                output.Write(Encoding.UTF8.GetString(await response.ReadContentAsync().ConfigureAwait(false)));
                output.Flush();
            }

            return fail && response.StatusCode >= 400 ? HttpErrorExitCode : 0;
        }
        catch (Exception failure) when (failure is QuicException or Http3Exception or System.Net.Sockets.SocketException or IOException or UnauthorizedAccessException)
        {
            error.WriteLine($"mallard: {failure.Message}");
            return 1;
        }
    }
}
