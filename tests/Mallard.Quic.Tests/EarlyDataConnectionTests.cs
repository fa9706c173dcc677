using System.Net;
using System.Security.Cryptography;
using System.Text;

namespace Mallard.Quic.Tests;

/// <summary>0-RTT through the public API (RFC 9001 section 4.6): early data sent, accepted, answered before the handshake completes, refused and sent again.</summary>
public class EarlyDataConnectionTests
{
    [Fact]
    public async Task EarlyDataIsAcceptedAndTheConnectionHandedOutBeforeTheHandshakeCompletes()
    {
        await using QuicListener listener = await ListenAsync(earlyData: true);
        QuicSessionTicket ticket = await FirstTicketAsync(listener);
        Assert.True(ticket.AllowsEarlyData);

        await using QuicConnection client = await ConnectAsync(listener, ticket, earlyData: true);
        await using QuicStream stream = await client.OpenOutboundStreamAsync(QuicStreamType.Bidirectional);
        await stream.WriteAsync("GET /early"u8.ToArray(), completeWrites: true);

        await using QuicConnection accepted = await listener.AcceptConnectionAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(accepted.EarlyDataAccepted);
        await using QuicStream inbound = await accepted.AcceptInboundStreamAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal("GET /early", await ReadAllAsync(inbound));
        await inbound.WriteAsync("answer"u8.ToArray(), completeWrites: true);

        Assert.Equal("answer", await ReadAllAsync(stream));
        await client.WaitForHandshakeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        await accepted.WaitForHandshakeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(client.EarlyDataAccepted);
        Assert.True(client.IsResumed);
        Assert.Equal(1, listener.EarlyDataStatistics.Accepted); // whether the request went in 0-RTT packets is a race on loopback; EarlyDataTests pins it down
    }

    [Fact]
    public async Task RefusedEarlyDataIsSentAgainAfterTheHandshake()
    {
        byte[] fleetKey = RandomNumberGenerator.GetBytes(64);
        await using QuicListener issuer = await ListenAsync(earlyData: true, fleetKey);
        await using QuicListener refuser = await ListenAsync(earlyData: false, fleetKey); // resumes, but takes no 0-RTT
        QuicSessionTicket ticket = await FirstTicketAsync(issuer);

        await using QuicConnection client = await ConnectAsync(refuser, ticket, earlyData: true);
        await using QuicStream stream = await client.OpenOutboundStreamAsync(QuicStreamType.Bidirectional);
        await stream.WriteAsync("GET /again"u8.ToArray(), completeWrites: true);

        await using QuicConnection accepted = await refuser.AcceptConnectionAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.False(accepted.EarlyDataAccepted);
        Assert.True(accepted.IsResumed);
        await using QuicStream inbound = await accepted.AcceptInboundStreamAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal("GET /again", await ReadAllAsync(inbound));
        await client.WaitForHandshakeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.False(client.EarlyDataAccepted);
        lock (accepted.Gate)
        {
            Assert.Equal(0, accepted.Core.ZeroRttPacketsReceived);
        }
    }

    [Fact]
    public async Task WithoutAnEarlyDataTicketConnectingWaitsForTheHandshake()
    {
        await using QuicListener listener = await ListenAsync(earlyData: false);
        QuicSessionTicket ticket = await FirstTicketAsync(listener);
        Assert.False(ticket.AllowsEarlyData);

        await using QuicConnection client = await ConnectAsync(listener, ticket, earlyData: true);
        lock (client.Gate)
        {
            Assert.True(client.Core.HandshakeComplete);
            Assert.Equal(0, client.Core.ZeroRttPacketsSent);
        }
    }

    [Fact]
    public async Task AClientHandedOutEarlyStillGivesUpWhenTheHandshakeNeverCompletes()
    {
        QuicSessionTicket ticket;
        IPEndPoint gone;
        await using (QuicListener listener = await ListenAsync(earlyData: true))
        {
            ticket = await FirstTicketAsync(listener);
            gone = listener.LocalEndPoint;
        }

        // The server is gone: the 0-RTT connection is handed out at once, then ends with a timeout.
        await using QuicConnection client = await QuicConnection.ConnectAsync(new QuicClientConnectionOptions
        {
            RemoteEndPoint = gone,
            ApplicationProtocols = ["hq-interop"],
            SkipCertificateValidation = true,
            SessionTicket = ticket,
            EarlyData = true,
            HandshakeTimeout = TimeSpan.FromMilliseconds(300),
        });
        await using QuicStream stream = await client.OpenOutboundStreamAsync(QuicStreamType.Bidirectional);
        await stream.WriteAsync("GET /early"u8.ToArray(), completeWrites: true);

        QuicException failure = await Assert.ThrowsAsync<QuicException>(async () => await client.WaitForHandshakeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(QuicError.ConnectionTimeout, failure.QuicError);
    }

    [Fact]
    public async Task AHandshakeThatCompletedStillCountsAfterThePeerHasClosed()
    {
        await using QuicListener listener = await ListenAsync(earlyData: false);
        QuicConnection client = await ConnectAsync(listener, null);
        await using QuicConnection accepted = await listener.AcceptConnectionAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        await accepted.WaitForHandshakeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));

        await client.DisposeAsync(); // a client that had its answer and left
        await Assert.ThrowsAsync<QuicException>(async () => await accepted.AcceptInboundStreamAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10)));
        await accepted.WaitForHandshakeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task EarlyDataWithoutSessionTicketsIsRefusedByName()
    {
        var error = await Assert.ThrowsAsync<ArgumentException>(async () => await QuicListener.ListenAsync(new QuicListenerOptions
        {
            ListenEndPoint = new IPEndPoint(IPAddress.Loopback, 0),
            ApplicationProtocols = ["hq-interop"],
            EarlyData = true,
            SessionTicketLifetime = TimeSpan.Zero,
        }));
        Assert.Contains("EarlyData", error.Message, StringComparison.Ordinal);
        Assert.Contains("SessionTicketLifetime", error.Message, StringComparison.Ordinal);
    }

    private static ValueTask<QuicListener> ListenAsync(bool earlyData, byte[]? staticKey = null) => QuicListener.ListenAsync(new QuicListenerOptions
    {
        ListenEndPoint = new IPEndPoint(IPAddress.Loopback, 0),
        ApplicationProtocols = ["hq-interop"],
        StaticKey = staticKey,
        EarlyData = earlyData,
    });

    private static ValueTask<QuicConnection> ConnectAsync(QuicListener listener, QuicSessionTicket? ticket, bool earlyData = false) => QuicConnection.ConnectAsync(new QuicClientConnectionOptions
    {
        RemoteEndPoint = listener.LocalEndPoint,
        ApplicationProtocols = ["hq-interop"],
        SkipCertificateValidation = true,
        SessionTicket = ticket,
        EarlyData = earlyData,
    });

    /// <summary>A full handshake and one stream round trip; the ticket the client got.</summary>
    private static async Task<QuicSessionTicket> FirstTicketAsync(QuicListener listener)
    {
        await using QuicConnection client = await ConnectAsync(listener, null);
        await using QuicConnection accepted = await listener.AcceptConnectionAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        for (int i = 0; i < 200 && client.SessionTicket is null; i++)
        {
            await Task.Delay(10);
        }

        return client.SessionTicket ?? throw new InvalidOperationException("no session ticket arrived");
    }

    private static async Task<string> ReadAllAsync(QuicStream stream)
    {
        using var buffer = new MemoryStream();
        await stream.CopyToAsync(buffer).WaitAsync(TimeSpan.FromSeconds(10));
        return Encoding.ASCII.GetString(buffer.ToArray());
    }
}
