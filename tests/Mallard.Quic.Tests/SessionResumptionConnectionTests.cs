using System.Net;
using System.Security.Cryptography;

namespace Mallard.Quic.Tests;

/// <summary>Session resumption through the public API: a ticket from one connection resumes the next, on this server or on another of its fleet.</summary>
public class SessionResumptionConnectionTests
{
    [Fact]
    public async Task ATicketFromOneConnectionResumesTheNextOnAnyServerSharingTheStaticKey()
    {
        byte[] fleetKey = RandomNumberGenerator.GetBytes(64);
        await using QuicListener first = await ListenAsync(fleetKey);
        await using QuicListener second = await ListenAsync(fleetKey);
        await using QuicListener stranger = await ListenAsync(RandomNumberGenerator.GetBytes(64));

        QuicSessionTicket ticket;
        await using (QuicConnection full = await ConnectAsync(first, null))
        {
            await using QuicConnection accepted = await first.AcceptConnectionAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
            Assert.False(full.IsResumed);
            Assert.False(accepted.IsResumed);
            ticket = await TicketOfAsync(full);
            Assert.Equal("hq-interop", ticket.ApplicationProtocol);
            Assert.InRange(ticket.ExpiresAt, DateTimeOffset.UtcNow.AddHours(23), DateTimeOffset.UtcNow.AddHours(25));
        }

        foreach (QuicListener listener in (QuicListener[])[first, second])
        {
            await using QuicConnection resumed = await ConnectAsync(listener, ticket);
            await using QuicConnection accepted = await listener.AcceptConnectionAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
            Assert.True(resumed.IsResumed);
            Assert.True(accepted.IsResumed);
            await EchoAsync(resumed, accepted);
        }

        // A server with another key cannot open the ticket: a full handshake, and the connection works.
        await using QuicConnection fresh = await ConnectAsync(stranger, ticket);
        await using QuicConnection freshAccepted = await stranger.AcceptConnectionAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.False(fresh.IsResumed);
        await EchoAsync(fresh, freshAccepted);
    }

    [Fact]
    public async Task AListenerWithoutTicketsIssuesNone()
    {
        await using QuicListener listener = await ListenAsync(null, TimeSpan.Zero);
        await using QuicConnection client = await ConnectAsync(listener, null);
        await using QuicConnection accepted = await listener.AcceptConnectionAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        await EchoAsync(client, accepted);
        Assert.Null(client.SessionTicket);
    }

    [Fact]
    public async Task ALifetimeBeyondSevenDaysIsRefusedByName()
    {
        var error = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await ListenAsync(null, TimeSpan.FromDays(8)));
        Assert.Contains("SessionTicketLifetime", error.Message, StringComparison.Ordinal);
    }

    private static ValueTask<QuicListener> ListenAsync(byte[]? staticKey, TimeSpan? lifetime = null) => QuicListener.ListenAsync(new QuicListenerOptions
    {
        ListenEndPoint = new IPEndPoint(IPAddress.Loopback, 0),
        ApplicationProtocols = ["hq-interop"],
        StaticKey = staticKey,
        SessionTicketLifetime = lifetime ?? TimeSpan.FromDays(1),
    });

    private static ValueTask<QuicConnection> ConnectAsync(QuicListener listener, QuicSessionTicket? ticket) => QuicConnection.ConnectAsync(new QuicClientConnectionOptions
    {
        RemoteEndPoint = listener.LocalEndPoint,
        ApplicationProtocols = ["hq-interop"],
        SkipCertificateValidation = true,
        SessionTicket = ticket,
    });

    /// <summary>The ticket arrives in the server's first 1-RTT flight; a stream round trip makes sure it has been read.</summary>
    private static async Task<QuicSessionTicket> TicketOfAsync(QuicConnection connection)
    {
        for (int i = 0; i < 200 && connection.SessionTicket is null; i++)
        {
            await Task.Delay(10);
        }

        return connection.SessionTicket ?? throw new InvalidOperationException("no session ticket arrived");
    }

    private static async Task EchoAsync(QuicConnection client, QuicConnection server)
    {
        await using QuicStream stream = await client.OpenOutboundStreamAsync(QuicStreamType.Bidirectional);
        await stream.WriteAsync("ping"u8.ToArray(), completeWrites: true);
        await using QuicStream inbound = await server.AcceptInboundStreamAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        byte[] buffer = new byte[16];
        int read = await inbound.ReadAsync(buffer);
        Assert.Equal("ping", System.Text.Encoding.ASCII.GetString(buffer, 0, read));
    }
}
