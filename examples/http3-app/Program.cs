// An ASP.NET Core app served over HTTP/1.1, HTTP/2 and HTTP/3 on one port, its HTTP/3 on
// Mallard.Quic (no libmsquic). Its QUIC connection IDs carry a QUIC-LB server ID, so that
// mallard lb in front of a fleet of these routes every packet of a connection to this one, even
// after the client's address changes.
//
//   dotnet run --project examples/http3-app -- --Port 4443 --Mallard:QuicLb:ServerId 42424242
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Mallard.Quic.AspNetCore;
using Mallard.Quic.Connections;
using Mallard.QuicLb;
using Microsoft.AspNetCore.Server.Kestrel.Core;

WebApplicationBuilder builder = WebApplication.CreateBuilder(args);
IConfigurationSection quicLb = builder.Configuration.GetSection("Mallard:QuicLb");

builder.WebHost.UseMallardQuic(quic =>
{
    if (quicLb.Exists())
    {
        var config = new QuicLbConfig(quicLb.GetValue<int>("ConfigId"), quicLb.GetValue<int>("ServerIdLength"), quicLb.GetValue<int>("NonceLength"));
        string serverId = quicLb["ServerId"] ?? "";
        if (serverId.Length != 2 * config.ServerIdLength || !serverId.All(Uri.IsHexDigit))
        {
            throw new InvalidOperationException($"Mallard:QuicLb:ServerId: \"{serverId}\" is not a server ID of this config; write exactly {config.ServerIdLength} octets as {2 * config.ServerIdLength} hex digits.");
        }

        quic.ConnectionIdGenerator = new QuicLbConnectionIdGenerator(config, Convert.FromHexString(serverId));
    }

    quic.ConnectionOptions.QlogDirectory = builder.Configuration["Mallard:QlogDirectory"];
});

builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, builder.Configuration.GetValue<int>("Port"), listen =>
{
    listen.Protocols = HttpProtocols.Http1AndHttp2AndHttp3; // HTTP/1.1 and HTTP/2 answers carry Alt-Svc: h3
    listen.UseHttps(DevelopmentCertificate());
}));

WebApplication app = builder.Build();
app.MapGet("/", (HttpContext context) => $"Hello from Mallard.Quic over {context.Request.Protocol}\n");
app.Run();

// A self-signed certificate for the example; a real deployment loads its own (Kestrel's
// "Certificates" configuration or listen.UseHttps(path, password)).
static X509Certificate2 DevelopmentCertificate()
{
    using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256);
    var names = new SubjectAlternativeNameBuilder();
    names.AddDnsName("localhost");
    names.AddIpAddress(IPAddress.Loopback);
    request.CertificateExtensions.Add(names.Build());
    return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
}
