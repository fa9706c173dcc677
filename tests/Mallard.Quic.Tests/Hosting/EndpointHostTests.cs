using System.Net;

namespace Mallard.Quic.Tests.Hosting;

/// <summary>How the I/O host sends: a lone datagram from an idle connection on the caller's thread, the rest through the send pump.</summary>
public class EndpointHostTests
{
    [Fact]
    public async Task ADatagramFromAnIdleConnectionLeavesOnTheCallersThreadAndABurstThroughThePump()
    {
        await using QuicListener listener = await QuicListener.ListenAsync(new QuicListenerOptions
        {
            ListenEndPoint = new IPEndPoint(IPAddress.Loopback, 0),
            ApplicationProtocols = ["siduck"],
            ConnectionOptions = new QuicConnectionOptions { EnableDatagrams = true },
        });
        await using QuicConnection client = await QuicConnection.ConnectAsync(new QuicClientConnectionOptions
        {
            RemoteEndPoint = listener.LocalEndPoint,
            ApplicationProtocols = ["siduck"],
            SkipCertificateValidation = true,
            EnableDatagrams = true,
        });
        await using QuicConnection server = await listener.AcceptConnectionAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));

        // Idle for longer than the threshold: the send happens inside TrySendDatagram. (Right after
        // the handshake the host still sends now and then — acknowledgements, path MTU probes — so
        // a try that meets one of those is repeated.)
        long before = 0;
        bool inline = false;
        for (int attempt = 0; attempt < 10 && !inline; attempt++)
        {
            await Task.Delay(100);
            before = client.Host.InlineDatagramSends;
            Assert.Equal(QuicDatagramSendStatus.Queued, client.TrySendDatagram("quack"u8.ToArray()));
            inline = client.Host.InlineDatagramSends == before + 1;
            Assert.Equal("quack"u8.ToArray(), await server.ReadDatagramAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10)));
        }

        Assert.True(inline, "an idle connection's datagram was never sent on the caller's thread");

        // Right after a send the host is not idle: the next datagrams go through the pump (a stall
        // of over a millisecond between two of them on a busy machine would let one more go inline).
        for (int i = 0; i < 20; i++)
        {
            client.TrySendDatagram("burst"u8.ToArray());
        }

        Assert.InRange(client.Host.InlineDatagramSends, before + 1, before + 5);
        for (int i = 0; i < 20; i++)
        {
            Assert.Equal("burst"u8.ToArray(), await server.ReadDatagramAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10)));
        }
    }
}
