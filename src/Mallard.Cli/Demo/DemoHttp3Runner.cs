using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Mallard.Balancer;
using Mallard.Balancer.Configuration;
using Mallard.Cli.Quic;
using Mallard.Http3;
using Mallard.Quic;
using Mallard.QuicLb;
using Microsoft.Extensions.Logging.Abstractions;

namespace Mallard.Cli.Demo;

/// <summary>
/// <c>mallard demo --http3</c>: the same story with HTTP/3 — two ASP.NET Core apps on
/// Mallard.Quic behind mallard lb, a NAT in front of an HTTP/3 client (Mallard.Http3) that
/// downloads a file while its NAT rebinds halfway; then a second connection that resumes the TLS
/// session with the first's ticket, on whichever server the balancer hashes it to.
/// </summary>
internal sealed class DemoHttp3Runner(long megabytes, TextWriter output)
{
    private static readonly QuicLbConfig Config = new(0, 4, 8);
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    public async Task<int> RunAsync(CancellationToken stop)
    {
        Log("mallard demo --http3: an HTTP/3 download through mallard lb while the client's NAT rebinds");
        byte[] fleetKey = RandomNumberGenerator.GetBytes(64);
        using X509Certificate2 certificate = QuicCliSupport.SelfSignedCertificate("localhost"); // one for both servers, as a fleet shares its name's
        await using DemoHttp3App a = await DemoHttp3App.StartAsync("A", "41414141", Config, fleetKey, certificate).ConfigureAwait(false);
        await using DemoHttp3App b = await DemoHttp3App.StartAsync("B", "42424242", Config, fleetKey, certificate).ConfigureAwait(false);
        await using LoadBalancer balancer = await LoadBalancer.StartAsync(DemoRunner.Settings(a.EndPoint, a.ServerId, b.EndPoint, b.ServerId, ReturnPathMode.PerClientAddress),
            NullLoggerFactory.Instance, cancellation: stop).ConfigureAwait(false);
        IPEndPoint front = balancer.ListenEndpoints[0];
        await using var nat = new UdpNat(front);
        Log($"servers   ASP.NET Core (Kestrel) on Mallard.Quic: A on {a.EndPoint} (server ID {a.ServerId}), B on {b.EndPoint} (server ID {b.ServerId}); one static key");
        Log($"balancer  mallard lb on {front}, routing by connection ID");
        Log($"NAT       the client sends to {nat.EndPoint}; the balancer sees it as {nat.PublicEndPoint}");
        Log("client    Mallard.Http3, keep-alive 250 ms (a downloader's PING is what shows the server its new address)");

        long total = megabytes * 1_000_000;
        var url = new Uri($"https://localhost:{front.Port}/download/{total}");
        QuicSessionTicket? ticket;
        string firstServer;
        await using (Http3ClientConnection client = await Http3ClientConnection.ConnectAsync(Options(nat.EndPoint, null), stop).ConfigureAwait(false))
        {
            await using Http3Response response = await client.GetAsync(url, stop).ConfigureAwait(false);
            firstServer = response.Header("x-served-by") ?? "?";
            Log($"client    HTTP/3 GET {url.AbsolutePath}: {response.StatusCode}, served by {firstServer}; downloading {megabytes} MB");
            var download = new DemoDownload(total, nat, Log);
            try
            {
                await download.ReadAsync(response.Content, stop).ConfigureAwait(false);
            }
            catch (Exception failure) when (failure is QuicException or Http3Exception or OperationCanceledException)
            {
                Log($"client    the connection was lost: {failure.Message}");
            }

            if (download.Received != total || !download.Intact)
            {
                Log($"client    the download stopped at {download.Received:N0} of {total:N0} octets{(download.Intact ? "" : ", CORRUPTED")}");
                return 1;
            }

            Log($"client    100 %: {download.Received:N0} octets, every octet as sent, on one connection across the rebinding");
            ticket = client.QuicConnection.SessionTicket;
        }

        // New connections from new ports, as after a NAT timeout: the balancer hashes each one's
        // first packets to a server. Until one lands on the other server (at most 16 tries), to
        // show that a ticket from one server of the fleet resumes on another.
        for (int attempt = 1; ; attempt++)
        {
            await using var secondNat = new UdpNat(front);
            await using Http3ClientConnection again = await Http3ClientConnection.ConnectAsync(Options(secondNat.EndPoint, ticket), stop).ConfigureAwait(false);
            await using Http3Response small = await again.GetAsync(new Uri($"https://localhost:{front.Port}/download/1000"), stop).ConfigureAwait(false);
            await small.ReadContentAsync(stop).ConfigureAwait(false);
            string server = small.Header("x-served-by") ?? "?";
            if (server == firstServer && attempt < 16)
            {
                continue;
            }

            bool resumed = again.QuicConnection.IsResumed;
            Log($"client    a new connection from a new port: served by {server}, TLS session {(resumed ? $"resumed with the ticket {firstServer} issued" : "NOT resumed")}");
            Log(resumed ? "the HTTP/3 download survived the rebinding, and the fleet resumed the session" : "the session was not resumed");
            return resumed ? 0 : 1;
        }
    }

    private static QuicClientConnectionOptions Options(IPEndPoint via, QuicSessionTicket? ticket) => new()
    {
        RemoteEndPoint = via,
        ApplicationProtocols = ["h3"],
        SkipCertificateValidation = true, // the demo's servers have a self-signed certificate
        SessionTicket = ticket,
        // A client that only downloads sends nothing once the server's packets go to the mapping
        // the NAT forgot; a PING after 250 ms of silence shows the server where the client is now.
        KeepAliveInterval = TimeSpan.FromMilliseconds(250),
    };

    private void Log(string line)
    {
        lock (output)
        {
            output.WriteLine($"[{_clock.Elapsed.TotalSeconds,5:0.00} s] {line}");
            output.Flush();
        }
    }
}
