using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Mallard.Http3;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;

namespace Mallard.Quic.AspNetCore.Tests;

/// <summary>
/// One HTTP/3 endpoint, two names: Kestrel's <c>ServerCertificateSelector</c> picks the
/// certificate per handshake by the client's server name (SNI), as it does over TCP.
/// </summary>
public class CertificateSelectionTests
{
    [Theory]
    [InlineData("a.example", "CN=a.example")]
    [InlineData("b.example", "CN=b.example")]
    [InlineData(null, "CN=a.example")] // no SNI (an IP address): the selector's default
    public async Task TheCertificateFollowsTheServerNameTheClientAsksFor(string? serverName, string expectedSubject)
    {
        using X509Certificate2 a = Certificate("a.example");
        using X509Certificate2 b = Certificate("b.example");
        WebApplicationBuilder builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().UseKestrelHttpsConfiguration().UseMallardQuic();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0, listen =>
        {
            listen.Protocols = HttpProtocols.Http3;
            listen.UseHttps(https => https.ServerCertificateSelector = (_, name) => name == "b.example" ? b : a);
        }));
        await using WebApplication app = builder.Build();
        ((IApplicationBuilder)app).Run(context => context.Response.WriteAsync("named"));
        await app.StartAsync();
        int port = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First()).Port;

        string? presented = null;
        await using (Http3ClientConnection client = await Http3ClientConnection.ConnectAsync(new QuicClientConnectionOptions
        {
            RemoteEndPoint = new IPEndPoint(IPAddress.Loopback, port),
            ApplicationProtocols = ["h3"],
            ServerName = serverName,
            ValidateCertificate = (certificate, _) =>
            {
                presented = certificate.Subject;
                return true;
            },
        }))
        {
            await using Http3Response response = await client.GetAsync(new Uri($"https://{serverName ?? "127.0.0.1"}:{port}/"));
            Assert.Equal("named"u8.ToArray(), await response.ReadContentAsync());
        }

        Assert.Equal(expectedSubject, presented);
        await app.StopAsync();
    }

    private static X509Certificate2 Certificate(string name)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName(name);
        request.CertificateExtensions.Add(names.Build());
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
    }
}
