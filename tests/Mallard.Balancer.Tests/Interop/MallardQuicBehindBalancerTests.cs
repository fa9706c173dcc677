using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Mallard.Balancer.Tests.TestSupport;
using Mallard.Quic;
using Mallard.Quic.Connections;
using Mallard.QuicLb;
using Mallard.TestSupport;

namespace Mallard.Balancer.Tests.Interop;

/// <summary>
/// The whole chain with Mallard on both sides of the balancer: Mallard.Quic servers whose
/// connection IDs carry their QUIC-LB server IDs (<see cref="QuicLbConnectionIdGenerator"/>)
/// behind mallard lb in its default per-client-address mode, and quic-go 0.29 clients (the
/// quicgo-lb program) that change their source port in the middle of an upload. The balancer
/// routes by connection ID and relays the moved client from a new upstream port; the Mallard
/// server sees a new address, validates it (RFC 9000 section 9) and answers there.
/// </summary>
[Collection(nameof(QuicGoBehindBalancerTests))]
public sealed partial class MallardQuicBehindBalancerTests
{
    [Fact]
    public async Task ARebindingClientKeepsItsConnectionBecauseTheMallardServerFollowsTheNewPath()
    {
        int[] ports = FreePorts.Udp(3);
        await using TestServer a = await TestServer.StartAsync("A", "41414141", ports[0]);
        await using TestServer b = await TestServer.StartAsync("B", "42424242", ports[1]);
        await using LoadBalancer balancer = await RunningBalancer.StartAsync(TestSettings.Loopback(
            [(new IPEndPoint(IPAddress.Loopback, ports[0]), "41414141"), (new IPEndPoint(IPAddress.Loopback, ports[1]), "42424242")],
            ("Listen:0", $"127.0.0.1:{ports[2]}")));

        using RunningProcess client = RunningProcess.Start(await QuicGoLb.PathAsync(),
            ["-mode", "client", "-connect", $"127.0.0.1:{ports[2]}", "-connections", "4", "-bytes", "3000000", "-rebind-at", "1000000", "-idle", "10s"]);
        int exit = await client.WaitForExitAsync(TimeSpan.FromSeconds(120));

        Assert.True(exit == 0, client.Output);
        Assert.Equal(4, Regex.Matches(client.Output, "rebound to").Count);
        Assert.Equal(4, Regex.Matches(client.Output, "ok server=[AB] bytes=3000000").Count);

        // Each connection stayed on one server, which followed it to its new upstream port.
        Assert.Equal(4, a.Migrations + b.Migrations);
        Assert.Equal(4, a.Connections + b.Connections);
        Assert.True(balancer.GetStatus().Packets["connection_id"] > 100, "packets were routed by connection ID");
    }

    /// <summary>A Mallard.Quic server speaking the quicgo-lb test protocol: hash the upload, answer with the digest.</summary>
    private sealed class TestServer : IAsyncDisposable
    {
        private readonly QuicListener _listener;
        private readonly string _name;
        private readonly Task _accepting;
        private readonly List<QuicConnection> _connections = [];
        private int _moved;

        private TestServer(QuicListener listener, string name)
        {
            _listener = listener;
            _name = name;
            _accepting = Task.Run(AcceptAsync);
        }

        public int Connections
        {
            get
            {
                lock (_connections)
                {
                    return _connections.Count;
                }
            }
        }

        /// <summary>Connections whose peer address at the answer differed from the one they began with.</summary>
        public int Migrations => Volatile.Read(ref _moved);

        public static async Task<TestServer> StartAsync(string name, string serverId, int port)
        {
            QuicListener listener = await QuicListener.ListenAsync(new QuicListenerOptions
            {
                ListenEndPoint = new IPEndPoint(IPAddress.Loopback, port),
                ApplicationProtocols = ["mallard-lb-test"],
                ConnectionIdGenerator = new QuicLbConnectionIdGenerator(new QuicLbConfig(0, 4, 8), Convert.FromHexString(serverId)),
            });
            return new TestServer(listener, name);
        }

        public async ValueTask DisposeAsync()
        {
            await _listener.DisposeAsync();
            await _accepting.ContinueWith(_ => { }, TaskScheduler.Default);
        }

        private async Task AcceptAsync()
        {
            while (true)
            {
                QuicConnection connection = await _listener.AcceptConnectionAsync();
                lock (_connections)
                {
                    _connections.Add(connection);
                }

                IPEndPoint first = connection.RemoteEndPoint;
                _ = Task.Run(async () =>
                {
                    try
                    {
                        await using QuicStream stream = await connection.AcceptInboundStreamAsync();
                        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
                        byte[] buffer = new byte[64 * 1024];
                        long total = 0;
                        int read;
                        while ((read = await stream.ReadAsync(buffer)) > 0)
                        {
                            hash.AppendData(buffer, 0, read);
                            total += read;
                        }

                        if (!connection.RemoteEndPoint.Equals(first))
                        {
                            Interlocked.Increment(ref _moved);
                        }

                        string reply = $"server={_name} bytes={total} sha256={Convert.ToHexStringLower(hash.GetHashAndReset())} remote={connection.RemoteEndPoint}\n";
                        await stream.WriteAsync(Encoding.ASCII.GetBytes(reply), completeWrites: true);
                    }
                    catch (QuicException)
                    {
                    }
                });
            }
        }
    }
}
