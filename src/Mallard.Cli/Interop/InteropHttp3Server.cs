using System.Net;
using System.Security.Cryptography.X509Certificates;
using Mallard.Cli.Quic;
using Mallard.Quic.AspNetCore;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Mallard.Cli.Interop;

/// <summary>
/// The interop server's <c>http3</c> case: Kestrel's HTTP/3 on Mallard.Quic (UseMallardQuic)
/// answering GET for the files under the root — the deployment Mallard.Quic.AspNetCore is for,
/// run as the quic-interop-runner runs a server.
/// </summary>
internal sealed class InteropHttp3Server(DirectoryInfo root, IPEndPoint listen, FileInfo? certificate, FileInfo? key, TextWriter output)
{
    public async Task<int> RunAsync()
    {
        if (!root.Exists)
        {
            throw new CliException($"--root \"{root.FullName}\" does not exist.");
        }

        X509Certificate2 serverCertificate = QuicCliSupport.LoadServerCertificate(certificate, key) ?? QuicCliSupport.SelfSignedCertificate("mallard-interop");
        WebApplicationBuilder builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().UseKestrelHttpsConfiguration().UseMallardQuic(quic =>
        {
            quic.ConnectionOptions.KeyLog = QuicCliSupport.KeyLogFromEnvironment();
            quic.ConnectionOptions.QlogDirectory = QuicCliSupport.QlogDirectoryFromEnvironment();
        });
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(listen, endpoint =>
        {
            endpoint.Protocols = HttpProtocols.Http3;
            endpoint.UseHttps(serverCertificate);
        }));
        WebApplication app = builder.Build();
        app.Run(ServeFileAsync);
        await using (app.ConfigureAwait(false))
        {
            try
            {
                await app.StartAsync().ConfigureAwait(false);
            }
            catch (IOException failure)
            {
                throw new CliException($"--listen {listen}: cannot bind: {failure.Message}");
            }

            output.WriteLine($"mallard interop server: Http3 on {listen}, serving {root.FullName}");
            output.Flush();
            using QuicCliSupport.StopSignal stop = QuicCliSupport.OnTerminate();
            try
            {
                await Task.Delay(Timeout.Infinite, stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }

            await app.StopAsync().ConfigureAwait(false);
        }

        return 0;
    }

    private async Task ServeFileAsync(HttpContext context)
    {
        string? file = context.Request.Method == HttpMethods.Get ? InteropServer.Resolve(root, context.Request.Path.Value ?? "/") : null;
        if (file is null || !File.Exists(file))
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }

        context.Response.ContentType = "application/octet-stream";
        context.Response.ContentLength = new FileInfo(file).Length;
        await context.Response.SendFileAsync(file, context.RequestAborted).ConfigureAwait(false);
    }
}
