using Mallard.Http3;

namespace Mallard.Quic.AspNetCore.Tests;

/// <summary>Mallard's own HTTP/3 client (Mallard.Http3) against Kestrel's HTTP/3 server on Mallard.Quic.</summary>
public class MallardClientTests
{
    [Fact]
    public async Task GetsHeadersAndBodies()
    {
        await using Http3TestApp app = await Http3TestApp.StartAsync();
        await using Http3ClientConnection client = await ConnectAsync(app);

        await using (Http3Response hello = await client.GetAsync(new Uri(app.Url("/hello"))))
        {
            Assert.Equal(200, hello.StatusCode);
            Assert.Equal("HTTP/3", hello.Header("x-mallard"));
            Assert.Equal("hello over HTTP/3\n"u8.ToArray(), await hello.ReadContentAsync());
        }

        await using Http3Response missing = await client.GetAsync(new Uri(app.Url("/nothing-here")));
        Assert.Equal(404, missing.StatusCode);
    }

    [Fact]
    public async Task LargeDownloadsInParallelAndAnUploadArriveIntact()
    {
        await using Http3TestApp app = await Http3TestApp.StartAsync();
        await using Http3ClientConnection client = await ConnectAsync(app);
        const int Size = 3_000_000;

        byte[][] bodies = await Task.WhenAll(Enumerable.Range(0, 6).Select(async _ =>
        {
            await using Http3Response response = await client.GetAsync(new Uri(app.Url($"/bytes/{Size}")));
            return await response.ReadContentAsync();
        }));
        Assert.All(bodies, body => Assert.Equal(Http3TestApp.Pattern(Size), body));

        byte[] upload = Http3TestApp.Pattern(1_500_000);
        await using Http3Response echoed = await client.SendAsync(HttpMethod.Post, new Uri(app.Url("/echo")), [new("content-type", "application/octet-stream")], upload);
        Assert.Equal(upload, await echoed.ReadContentAsync());
    }

    [Fact]
    public async Task AnAbortedRequestFailsWithTheServersCode()
    {
        await using Http3TestApp app = await Http3TestApp.StartAsync();
        await using Http3ClientConnection client = await ConnectAsync(app);

        var failure = await Assert.ThrowsAsync<Http3Exception>(async () =>
        {
            await using Http3Response response = await client.GetAsync(new Uri(app.Url("/abort")));
            await response.ReadContentAsync();
        });
        Assert.Equal(Http3ErrorCode.InternalError, failure.ErrorCode); // Kestrel's HttpContext.Abort resets with H3_INTERNAL_ERROR

        await using Http3Response after = await client.GetAsync(new Uri(app.Url("/hello")));
        Assert.Equal(200, after.StatusCode);
    }

    [Fact]
    public async Task RequestStreamsReuseTheirTransportContextAndNothingCarriesOver()
    {
        await using Http3TestApp app = await Http3TestApp.StartAsync();
        await using Http3ClientConnection client = await ConnectAsync(app);
        var contexts = new HashSet<string>();
        var streams = new HashSet<string>();
        for (int i = 0; i < 30; i++)
        {
            if (i % 10 == 5)
            {
                // An aborted request's context is not reused; the ones after it work.
                await Assert.ThrowsAsync<Http3Exception>(async () =>
                {
                    await using Http3Response aborted = await client.GetAsync(new Uri(app.Url("/abort")));
                    await aborted.ReadContentAsync();
                });
            }

            await using (Http3Response body = await client.GetAsync(new Uri(app.Url($"/bytes/{(i * 997) + 1}"))))
            {
                Assert.Equal(Http3TestApp.Pattern((i * 997) + 1), await body.ReadContentAsync());
            }

            await using Http3Response which = await client.GetAsync(new Uri(app.Url("/stream")));
            string[] parts = System.Text.Encoding.ASCII.GetString(await which.ReadContentAsync()).Split(' ');
            contexts.Add(parts[0]);
            Assert.True(streams.Add(parts[1]), $"stream {parts[1]} seen twice");
        }

        // One request after another: a handful of contexts carry sixty-odd streams (each waits for
        // its response's acknowledgement before it is free, so a few overlap).
        Assert.InRange(contexts.Count, 1, 10);
    }

    [Fact]
    public async Task ASecondConnectionResumesTheTlsSession()
    {
        await using Http3TestApp app = await Http3TestApp.StartAsync();
        QuicSessionTicket? ticket;
        await using (Http3ClientConnection first = await ConnectAsync(app))
        {
            await using Http3Response hello = await first.GetAsync(new Uri(app.Url("/hello")));
            await hello.ReadContentAsync();
            Assert.False(first.QuicConnection.IsResumed);
            ticket = first.QuicConnection.SessionTicket;
        }

        Assert.NotNull(ticket);
        await using Http3ClientConnection second = await ConnectAsync(app, ticket);
        await using Http3Response again = await second.GetAsync(new Uri(app.Url("/hello")));
        Assert.Equal(200, again.StatusCode);
        Assert.True(second.QuicConnection.IsResumed);
    }

    [Fact]
    public async Task AResumedClientSendsItsRequestAsEarlyDataToQuicGo()
    {
        // Mallard.Http3 needs nothing remembered from the server's SETTINGS to send early: its QPACK
        // encoder uses the static table and literals only (RFC 9114 section 7.2.4.2).
        int port = Mallard.TestSupport.FreePorts.Udp();
        using Mallard.TestSupport.RunningProcess server = await QuicGoHttp3Client.StartServerAsync(port);
        var url = new Uri($"https://127.0.0.1:{port}/");
        QuicSessionTicket? ticket;
        await using (Http3ClientConnection first = await Http3ClientConnection.ConnectAsync(QuicGoOptions(port, null)))
        {
            await using Http3Response hello = await first.GetAsync(url);
            await hello.ReadContentAsync();
            for (int i = 0; i < 200 && first.QuicConnection.SessionTicket is null; i++)
            {
                await Task.Delay(10);
            }

            ticket = first.QuicConnection.SessionTicket;
        }

        Assert.NotNull(ticket);
        Assert.True(ticket.AllowsEarlyData);
        await using Http3ClientConnection early = await Http3ClientConnection.ConnectAsync(QuicGoOptions(port, ticket));
        await using Http3Response response = await early.GetAsync(url);
        Assert.Equal(200, response.StatusCode);
        Assert.Equal("Hello from quic-go over HTTP/3\n"u8.ToArray(), await response.ReadContentAsync());
        await early.QuicConnection.WaitForHandshakeAsync();
        Assert.True(early.QuicConnection.EarlyDataAccepted);
    }

    private static QuicClientConnectionOptions QuicGoOptions(int port, QuicSessionTicket? ticket) => new()
    {
        RemoteEndPoint = new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, port),
        ApplicationProtocols = ["h3"],
        SkipCertificateValidation = true,
        ServerName = "localhost",
        SessionTicket = ticket,
        EarlyData = ticket is not null,
    };

    private static Task<Http3ClientConnection> ConnectAsync(Http3TestApp app, QuicSessionTicket? ticket = null) => Http3ClientConnection.ConnectAsync(new QuicClientConnectionOptions
    {
        RemoteEndPoint = app.Endpoint,
        ApplicationProtocols = ["h3"],
        SkipCertificateValidation = true,
        SessionTicket = ticket,
    });
}
