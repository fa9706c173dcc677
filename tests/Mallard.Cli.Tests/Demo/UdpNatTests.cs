using System.Net;
using Mallard.Cli.Demo;
using Mallard.Quic;
using Mallard.TestSupport;

namespace Mallard.Cli.Tests.Demo;

/// <summary>The demo's loopback NAT rebinds a real Mallard.Quic client, and the server follows it.</summary>
public class UdpNatTests
{
    [Fact]
    public async Task AServerFollowsItsClientThroughANatRebindingOnRealSockets()
    {
        await using QuicListener listener = await QuicListener.ListenAsync(new QuicListenerOptions
        {
            ListenEndPoint = new IPEndPoint(IPAddress.Loopback, 0),
            ApplicationProtocols = ["hq-interop"],
        });
        await using var relay = new UdpNat(listener.LocalEndPoint);
        Task<QuicConnection> accepted = listener.AcceptConnectionAsync().AsTask();
        await using QuicConnection client = await QuicConnection.ConnectAsync(new QuicClientConnectionOptions
        {
            RemoteEndPoint = relay.EndPoint,
            ApplicationProtocols = ["hq-interop"],
            SkipCertificateValidation = true,

            // A client that only receives says nothing after its NAT rebinds; the keep-alive PING
            // is what shows the server its new address (otherwise the server keeps sending to the old one).
            KeepAliveInterval = TimeSpan.FromMilliseconds(200),
        });
        await using QuicConnection server = await accepted.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(relay.PublicEndPoint, server.RemoteEndPoint);

        // Halfway through a 4 MB download the client's public address changes, and the packets
        // already sent to the old one are lost.
        await QuicDownloads.DownloadWithAMoveHalfwayAsync(server, client, () =>
        {
            relay.Rebind();
            return Task.CompletedTask;
        });
        Assert.Equal(relay.PublicEndPoint, server.RemoteEndPoint);
    }
}
