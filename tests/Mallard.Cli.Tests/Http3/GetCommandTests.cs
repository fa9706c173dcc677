using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Mallard.Quic.AspNetCore;
using Mallard.TestSupport;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Mallard.Cli.Tests.Http3;

/// <summary><c>mallard get</c> against an ASP.NET Core app on Mallard.Quic.</summary>
public sealed class GetCommandTests : IAsyncLifetime
{
    private readonly int _port = FreePorts.Udp();
    private WebApplication? _app;

    public async Task InitializeAsync()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        X509Certificate2 certificate = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256).CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        WebApplicationBuilder builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().UseKestrelHttpsConfiguration().UseMallardQuic();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, _port, listen =>
        {
            listen.Protocols = HttpProtocols.Http3;
            listen.UseHttps(certificate);
        }));
        _app = builder.Build();
        ((IApplicationBuilder)_app).Run(async context =>
        {
            context.Response.Headers["x-mallard"] = context.Request.Method;
            if (context.Request.Path == "/missing")
            {
                context.Response.StatusCode = 404;
                return;
            }

            using var body = new StreamReader(context.Request.Body);
            await context.Response.WriteAsync($"hello over {context.Request.Protocol}{await body.ReadToEndAsync()}");
        });
        await _app.StartAsync();
    }

    public async Task DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }

    [Fact]
    public void PrintsTheStatusHeadersAndBody()
    {
        CliRun run = CliRun.Of("get", $"https://127.0.0.1:{_port}/", "-k", "-i");

        Assert.True(run.ExitCode == 0, run.Error);
        Assert.StartsWith("HTTP/3 200", run.Output, StringComparison.Ordinal);
        Assert.Contains("x-mallard: GET", run.Output, StringComparison.Ordinal);
        Assert.EndsWith("hello over HTTP/3", run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void PostsABodyAndWritesTheAnswerToAFile()
    {
        string file = ScratchFolder.NewFile("mallard-get", ".txt");
        CliRun run = CliRun.Of("get", $"https://localhost:{_port}/", "-k", "-X", "POST", "-d", ", and back", "-o", file, "--connect", $"127.0.0.1:{_port}");

        Assert.True(run.ExitCode == 0, run.Error);
        Assert.Equal("hello over HTTP/3, and back", File.ReadAllText(file));
    }

    [Fact]
    public void FailExitsWith22OnAnHttpError()
    {
        Assert.Equal(0, CliRun.Of("get", $"https://127.0.0.1:{_port}/missing", "-k").ExitCode);
        Assert.Equal(22, CliRun.Of("get", $"https://127.0.0.1:{_port}/missing", "-k", "--fail").ExitCode);
    }

    [Fact]
    public void ACertificateThatDoesNotValidateIsOneLineAndExitCode1()
    {
        CliRun run = CliRun.Of("get", $"https://127.0.0.1:{_port}/");

        Assert.Equal(1, run.ExitCode);
        Assert.StartsWith("mallard: ", run.Error, StringComparison.Ordinal);
        Assert.Contains("certificate", run.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("http://example.net/", "mallard: \"http://example.net/\" is not an https:// URL.")]
    [InlineData("https://example.net/", "mallard: --connect \"nowhere\"", "--connect", "nowhere")]
    [InlineData("https://example.net/", "mallard: --request \"GET /\" is not an HTTP method", "-X", "GET /")]
    [InlineData("https://example.net/", "mallard: --request \"\" is not an HTTP method", "-X", "")]
    public void BadArgumentsNameWhatIsWrong(string url, string message, params string[] options)
    {
        CliRun run = CliRun.Of(["get", url, .. options]);

        Assert.NotEqual(0, run.ExitCode);
        Assert.StartsWith(message, run.Error.Trim(), StringComparison.Ordinal);
    }
}
