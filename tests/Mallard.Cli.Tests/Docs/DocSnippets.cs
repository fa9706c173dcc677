using System.Net;
using System.Security.Cryptography.X509Certificates;
using Mallard.Http3;
using Mallard.Quic;
using Mallard.Quic.AspNetCore;
using Mallard.Quic.Connections;
using Mallard.QuicLb;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Mallard.Cli.Tests.Docs;

/// <summary>
/// The C# examples of README.md and docs/, as code that compiles and runs. Each region's text is
/// what the page shows (<see cref="DocsExamplesTests"/> compares them); leading <c>using</c>
/// lines on a page must be among this file's.
/// </summary>
internal static class DocSnippets
{
    /// <summary>README.md: a server and a client, datagrams and a stream.</summary>
    public static async Task ReadmeQuickExample()
    {
        #region README.md
        await using var listener = await QuicListener.ListenAsync(new QuicListenerOptions
        {
            ListenEndPoint = new IPEndPoint(IPAddress.Loopback, 0), // port 0: any free port
            ApplicationProtocols = ["my-protocol"],
            ConnectionOptions = new QuicConnectionOptions { EnableDatagrams = true },
        });

        await using var client = await QuicConnection.ConnectAsync(new QuicClientConnectionOptions
        {
            RemoteEndPoint = listener.LocalEndPoint,
            ApplicationProtocols = ["my-protocol"],
            EnableDatagrams = true,
            SkipCertificateValidation = true, // tests only: by default the chain, usage and name are checked
        });
        await using var server = await listener.AcceptConnectionAsync();

        client.TrySendDatagram("telemetry"u8.ToArray());              // unreliable, ahead of stream data
        client.TrySendDatagram("position"u8.ToArray(), TimeSpan.FromMilliseconds(20)); // dropped if not sent in 20 ms
        await using var stream = await client.OpenOutboundStreamAsync(QuicStreamType.Bidirectional);
        await stream.WriteAsync("command"u8.ToArray(), completeWrites: true);
        #endregion

        Assert.Equal("telemetry"u8.ToArray(), await server.ReadDatagramAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10)));
        await using QuicStream command = await server.AcceptInboundStreamAsync();
        Assert.Equal("command", await new StreamReader(command).ReadToEndAsync());
    }

    /// <summary>docs/quic.md: connecting by name, one stream.</summary>
    public static async Task QuicStreamExample()
    {
        #region docs/quic.md streams
        await using var listener = await QuicListener.ListenAsync(new QuicListenerOptions
        {
            ListenEndPoint = new IPEndPoint(IPAddress.IPv6Any, 0), // IPv4 and IPv6, any free port
            ApplicationProtocols = ["my-protocol"],
            // ServerCertificate = X509Certificate2.CreateFromPemFile("cert.pem", "key.pem"),
            // without one, a self-signed ECDSA P-256 certificate for "localhost" is made
        });

        await using var client = await QuicConnection.ConnectAsync(new QuicClientConnectionOptions
        {
            RemoteEndPoint = new DnsEndPoint("localhost", listener.LocalEndPoint.Port),
            ApplicationProtocols = ["my-protocol"],
            SkipCertificateValidation = true, // only for tests; the default validates with X509Chain
        });
        await using var server = await listener.AcceptConnectionAsync();

        await using var stream = await client.OpenOutboundStreamAsync(QuicStreamType.Bidirectional);
        await stream.WriteAsync("hello"u8.ToArray(), completeWrites: true);
        await using var incoming = await server.AcceptInboundStreamAsync();
        // read `incoming` like any Stream; ReadAsync returns 0 at the FIN
        #endregion

        Assert.Equal("hello", await new StreamReader(incoming).ReadToEndAsync());
    }

    /// <summary>docs/quic.md: the DATAGRAM API on a connection whose peer echoes what it receives and then closes.</summary>
    public static async Task QuicDatagramExample(QuicConnection connection, byte[] sample, byte[] buffer, CancellationToken cancellationToken)
    {
        #region docs/quic.md datagrams
        // Both sides set EnableDatagrams = true (QuicClientConnectionOptions, and QuicConnectionOptions
        // for a listener's connections): it advertises max_datagram_frame_size.

        int max = connection.MaxDatagramSize;           // 0 when the peer did not enable datagrams
        QuicDatagramSendStatus status = connection.TrySendDatagram(sample);   // Queued, NotNegotiated, TooLarge, QueueFull, ConnectionClosed
        connection.TrySendDatagram(sample, TimeSpan.FromMilliseconds(20));    // dropped unsent if still queued after 20 ms
        connection.SendDatagram(sample, delivery => Console.WriteLine(delivery)); // throws QuicException instead; Acknowledged, Lost or Expired, once
        byte[] next = await connection.ReadDatagramAsync(cancellationToken);
        int length = await connection.ReadDatagramAsync(buffer, cancellationToken); // into your buffer: allocates nothing
        await foreach (byte[] datagram in connection.ReadDatagramsAsync(cancellationToken)) { /* until the connection closes */ }
        QuicDatagramStatistics counters = connection.DatagramStatistics;  // sent, received, dropped (send/receive queue full), acknowledged, lost, expired
        #endregion

        Assert.InRange(max, sample.Length, 1_500);
        Assert.Equal(QuicDatagramSendStatus.Queued, status);
        Assert.Equal(sample, next);
        Assert.Equal(sample, buffer[..length]);
        Assert.InRange(counters.Received, 2, 3);
    }

    /// <summary>docs/cid.md: issuing and decoding connection IDs.</summary>
    public static void CidExample(byte[] myKey)
    {
        #region docs/cid.md
        var config = new QuicLbConfig(configId: 1, serverIdLength: 4, nonceLength: 8, key: myKey);

        // Server: issue connection IDs that carry this server's ID (thread safe; nonces never repeat).
        var encoder = new ConnectionIdEncoder(config, serverId: [0x41, 0x41, 0x41, 0x41]);
        byte[] cid = encoder.Issue();

        // Balancer: decode without allocating; short headers can pass the bytes after the first octet.
        var decoder = new ConnectionIdDecoder([config]);
        QuicLbDecodeResult result = decoder.Decode(cid);
        if (result.IsRoutable) { /* route by result.ConfigId and result.ServerId */ }
        else { /* result.Reason: UnroutableConfigId, UnknownConfigId or TooShort → fallback */ }
        #endregion

        Assert.True(result.IsRoutable);
        Assert.Equal(1, result.ConfigId);
    }

    /// <summary>README.md: an ASP.NET Core app whose HTTP/3 runs on Mallard.Quic (compiled; examples/http3-app is the runnable one).</summary>
    public static void AspNetCoreReadme(string[] args)
    {
        #region README.md aspnetcore
        var builder = WebApplication.CreateBuilder(args);
        builder.WebHost.UseMallardQuic(quic =>            // Kestrel's HTTP/3 on Mallard.Quic
            quic.ConnectionIdGenerator = new QuicLbConnectionIdGenerator(
                new QuicLbConfig(0, 4, 8), Convert.FromHexString("41414141"))); // routable by mallard lb
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.ListenAnyIP(443, listen =>
        {
            listen.Protocols = HttpProtocols.Http1AndHttp2AndHttp3; // TCP answers advertise h3 (Alt-Svc)
            listen.UseHttps("server.pfx");
        }));
        var app = builder.Build();
        app.MapGet("/", () => "hello over HTTP/3");
        app.Run();
        #endregion
    }

    /// <summary>docs/aspnetcore.md: the transport and an HTTP/3 endpoint (compiled).</summary>
    public static void AspNetCoreDocs(WebApplicationBuilder builder, X509Certificate2 certificate)
    {
        #region docs/aspnetcore.md
        builder.WebHost.UseMallardQuic(quic => { /* MallardQuicTransportOptions */ });
        builder.WebHost.ConfigureKestrel(k => k.ListenAnyIP(443, listen =>
        {
            listen.Protocols = HttpProtocols.Http3;           // or Http1AndHttp2AndHttp3
            listen.UseHttps(certificate);                     // HTTP/3 is always TLS
        }));
        #endregion
    }

    /// <summary>docs/http3.md: a GET with Mallard's HTTP/3 client (run against Kestrel on Mallard.Quic).</summary>
    public static async Task<byte[]> Http3ClientExample(IPEndPoint server)
    {
        #region docs/http3.md
        await using Http3ClientConnection h3 = await Http3ClientConnection.ConnectAsync(new QuicClientConnectionOptions
        {
            RemoteEndPoint = server,                  // an IPEndPoint or a DnsEndPoint
            ApplicationProtocols = ["h3"],
            SkipCertificateValidation = true,         // a test server's self-signed certificate
        });
        await using Http3Response response = await h3.GetAsync(new Uri($"https://localhost:{server.Port}/"));
        Console.WriteLine($"{response.StatusCode} {response.Header("content-type")}");
        byte[] body = await response.ReadContentAsync();
        #endregion
        return body;
    }

    /// <summary>docs/quic.md: resuming a session with the ticket of an earlier connection.</summary>
    public static async Task<bool> ResumptionExample(QuicClientConnectionOptions options, Func<QuicConnection, Task> use)
    {
        QuicSessionTicket? ticket;
        #region docs/quic.md resumption
        await using (QuicConnection first = await QuicConnection.ConnectAsync(options))
        {
            await UseAsync(first);                      // the ticket arrives just after the handshake
            ticket = first.SessionTicket;
        }

        options.SessionTicket = ticket;                 // resume: checked against ticket.ExpiresAt
        await using QuicConnection next = await QuicConnection.ConnectAsync(options);
        Console.WriteLine(next.IsResumed);              // false if the server no longer accepts it
        #endregion
        return next.IsResumed;

        Task UseAsync(QuicConnection connection) => use(connection);
    }

    /// <summary>docs/quic.md: a request sent as 0-RTT early data with a ticket that allows it.</summary>
    public static async Task<(byte[] Response, bool Accepted)> EarlyDataExample(QuicClientConnectionOptions options, QuicSessionTicket ticket, byte[] request)
    {
        #region docs/quic.md early data
        options.SessionTicket = ticket;                 // ticket.AllowsEarlyData: the server takes 0-RTT
        options.EarlyData = true;
        await using QuicConnection connection = await QuicConnection.ConnectAsync(options);   // returns at once
        await using QuicStream stream = await connection.OpenOutboundStreamAsync(QuicStreamType.Bidirectional);
        await stream.WriteAsync(request, completeWrites: true);                                  // in the first flight
        using var response = new MemoryStream();
        await stream.CopyToAsync(response);             // the answer, one round trip after connecting
        await connection.WaitForHandshakeAsync();
        Console.WriteLine(connection.EarlyDataAccepted); // false: the request went again after the handshake
        #endregion
        return (response.ToArray(), connection.EarlyDataAccepted);
    }
}
