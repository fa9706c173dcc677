using System.Net;
using System.Security.Cryptography;
using System.Text;
using Mallard.Balancer.Tests.TestSupport;
using Mallard.Quic;
using Mallard.Quic.Connections;
using Mallard.QuicLb;
using Mallard.TestSupport;

namespace Mallard.Balancer.Tests.Interop;

/// <summary>
/// 0-RTT across a fleet behind mallard lb: two Mallard.Quic servers that share a StaticKey (so
/// either opens the other's session tickets) and take early data, with QUIC-LB connection IDs.
/// The balancer hashes a new connection's Initial and 0-RTT packets alike by the client-chosen
/// connection ID, so the early data reaches the server that got the ClientHello, whichever of
/// the two that is; every connection's request goes in the first flight and is answered.
/// </summary>
public sealed class FleetEarlyDataTests
{
    private const int Connections = 16;

    [Fact]
    public async Task EveryServerOfTheFleetTakesEarlyDataWithATicketEitherIssued()
    {
        byte[] fleetKey = RandomNumberGenerator.GetBytes(64);
        int[] ports = FreePorts.Udp(3);
        await using FleetServer a = await FleetServer.StartAsync("A", "41414141", ports[0], fleetKey);
        await using FleetServer b = await FleetServer.StartAsync("B", "42424242", ports[1], fleetKey);
        await using LoadBalancer balancer = await RunningBalancer.StartAsync(TestSettings.Loopback(
            [(new IPEndPoint(IPAddress.Loopback, ports[0]), "41414141"), (new IPEndPoint(IPAddress.Loopback, ports[1]), "42424242")],
            ("Listen:0", $"127.0.0.1:{ports[2]}")));
        var front = new IPEndPoint(IPAddress.Loopback, ports[2]);

        QuicSessionTicket ticket;
        await using (QuicConnection first = await QuicConnection.ConnectAsync(Options(front, null)))
        {
            await RequestAsync(first);
            for (int i = 0; i < 500 && first.SessionTicket is null; i++)
            {
                await Task.Delay(10);
            }

            ticket = first.SessionTicket ?? throw new InvalidOperationException("no ticket arrived");
            Assert.True(ticket.AllowsEarlyData);
        }

        var servedBy = new List<string>();
        for (int i = 0; i < Connections; i++)
        {
            // Each connection from a new port with a new random connection ID: Maglev spreads them over both servers.
            await using QuicConnection early = await QuicConnection.ConnectAsync(Options(front, ticket));
            string answer = await RequestAsync(early);
            await early.WaitForHandshakeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
            Assert.True(early.EarlyDataAccepted, $"connection {i}: {answer}");
            Assert.EndsWith("early=True", answer, StringComparison.Ordinal);
            servedBy.Add(answer[..8]);
            await early.CloseAsync(0);
        }

        Assert.Contains("server=A", servedBy);
        Assert.Contains("server=B", servedBy);
        Assert.Equal(Connections, a.EarlyDataAccepted + b.EarlyDataAccepted);
    }

    private static QuicClientConnectionOptions Options(IPEndPoint front, QuicSessionTicket? ticket) => new()
    {
        RemoteEndPoint = front,
        ApplicationProtocols = ["mallard-lb-test"],
        SkipCertificateValidation = true,
        SessionTicket = ticket,
        EarlyData = ticket is not null,
    };

    private static async Task<string> RequestAsync(QuicConnection connection)
    {
        await using QuicStream stream = await connection.OpenOutboundStreamAsync(QuicStreamType.Bidirectional);
        await stream.WriteAsync("who?"u8.ToArray(), completeWrites: true);
        using var answer = new MemoryStream();
        await stream.CopyToAsync(answer).WaitAsync(TimeSpan.FromSeconds(10));
        return Encoding.ASCII.GetString(answer.ToArray());
    }

    /// <summary>A Mallard.Quic server of the fleet: answers each request stream with its name and whether the connection's early data was accepted.</summary>
    private sealed class FleetServer : IAsyncDisposable
    {
        private readonly QuicListener _listener;
        private readonly Task _accepting;

        private FleetServer(QuicListener listener, string name)
        {
            _listener = listener;
            _accepting = Task.Run(() => AcceptAsync(name));
        }

        public long EarlyDataAccepted => _listener.EarlyDataStatistics.Accepted;

        public static async Task<FleetServer> StartAsync(string name, string serverId, int port, byte[] staticKey) => new(await QuicListener.ListenAsync(new QuicListenerOptions
        {
            ListenEndPoint = new IPEndPoint(IPAddress.Loopback, port),
            ApplicationProtocols = ["mallard-lb-test"],
            ConnectionIdGenerator = new QuicLbConnectionIdGenerator(new QuicLbConfig(0, 4, 8), Convert.FromHexString(serverId)),
            StaticKey = staticKey,
            EarlyData = true,
        }), name);

        public async ValueTask DisposeAsync()
        {
            await _listener.DisposeAsync();
            await _accepting.ContinueWith(_ => { }, TaskScheduler.Default);
        }

        private async Task AcceptAsync(string name)
        {
            while (true)
            {
                QuicConnection connection = await _listener.AcceptConnectionAsync();
                _ = Task.Run(async () =>
                {
                    await using (connection)
                    {
                        try
                        {
                            while (true)
                            {
                                await using QuicStream stream = await connection.AcceptInboundStreamAsync();
                                using var request = new MemoryStream();
                                await stream.CopyToAsync(request);
                                await stream.WriteAsync(Encoding.ASCII.GetBytes($"server={name} early={connection.EarlyDataAccepted}"), completeWrites: true);
                            }
                        }
                        catch (QuicException)
                        {
                            // the client closed the connection
                        }
                    }
                });
            }
        }
    }
}
