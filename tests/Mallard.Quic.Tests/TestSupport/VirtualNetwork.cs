using System.Net;
using System.Security.Cryptography.X509Certificates;
using Mallard.Quic.Connections;
using Mallard.Quic.Tls;
using Mallard.Quic.Transport;

namespace Mallard.Quic.Tests.TestSupport;

/// <summary>
/// Two sans-IO endpoints joined by a simulated path with virtual time: one-way delay, jitter that
/// reorders, random and scripted loss, and optionally a bottleneck link towards the client with a
/// drop-tail queue, all from a seeded RNG, so every run is the same. Time jumps straight to the
/// next event (a delivery or a timer); nothing sleeps.
/// </summary>
internal sealed class VirtualNetwork : IDisposable
{
    public static readonly X509Certificate2 Certificate = TlsServerOptions.CreateSelfSignedCertificate("localhost");

    private readonly PriorityQueue<(bool ToServer, byte[] Datagram, SocketAddress From), (long, long)> _inFlight = new();
    private readonly byte[] _buffer = new byte[65_536];
    private readonly Random _random;
    private long _sequence;
    private long _linkFree;

    public VirtualNetwork(int seed = 1, ConnectionOptions? server = null, ConnectionOptions? client = null, byte[]? serverKey = null)
    {
        _random = new Random(seed);
        Server = new Endpoint(server ?? ServerOptions(), staticKey: serverKey);
        ClientEndpoint = new Endpoint(null);
        Server.ConnectionAccepted = c => ServerConnection = c;
        ClientOptions = client ?? DefaultClientOptions();
    }

    /// <summary>The client's address when the network starts.</summary>
    public static SocketAddress ClientAddress { get; } = new IPEndPoint(IPAddress.Loopback, 50_000).Serialize();

    /// <summary>
    /// Where the client's datagrams come from now; change it to rebind the client (a NAT or a move).
    /// Server datagrams to any other address are lost, as behind a NAT that forgot the old mapping.
    /// </summary>
    public SocketAddress CurrentClientAddress { get; set; } = ClientAddress;

    /// <summary>Server datagrams sent to an address where the client no longer is.</summary>
    public int DatagramsToNowhere { get; private set; }

    /// <summary>Octets of those datagrams.</summary>
    public long BytesToNowhere { get; private set; }

    public static SocketAddress ServerAddress { get; } = new IPEndPoint(IPAddress.Loopback, 4433).Serialize();

    public Endpoint Server { get; }

    public Endpoint ClientEndpoint { get; }

    public ConnectionOptions ClientOptions { get; }

    public Connection? Client { get; private set; }

    public Connection? ServerConnection { get; private set; }

    /// <summary>Virtual time in microseconds.</summary>
    public long Now { get; private set; } = 1_000_000;

    /// <summary>One-way delay in microseconds.</summary>
    public long Delay { get; set; } = 10_000;

    /// <summary>Extra random delay up to this much (reorders datagrams).</summary>
    public long Jitter { get; set; }

    /// <summary>
    /// Whether every pump polls every connection (tests that change connections directly need
    /// it); false leaves it to the endpoint's schedule, as a real host does.
    /// </summary>
    public bool TouchAllOnPump { get; set; } = true;

    /// <summary>
    /// The rate of the link towards the client (or the server, <see cref="BottleneckTowardsServer"/>)
    /// in octets per second (0: unlimited). Datagrams wait
    /// in its queue in order and leave one after another, as at a router in front of a slow link.
    /// </summary>
    public long BottleneckBytesPerSecond { get; set; }

    /// <summary>Whether the bottleneck sits on the path towards the server instead (an upload).</summary>
    public bool BottleneckTowardsServer { get; set; }

    /// <summary>The most octets the bottleneck's queue holds; a datagram that does not fit is dropped (drop-tail).</summary>
    public long BottleneckQueueBytes { get; set; } = 256 * 1024;

    /// <summary>Datagrams the bottleneck's full queue dropped.</summary>
    public int BottleneckDrops { get; private set; }

    /// <summary>Probability that a datagram is lost.</summary>
    public double LossRate { get; set; }

    /// <summary>Decides the fate of each datagram before the random loss: return true to drop it.</summary>
    public Func<bool, byte[], bool>? Drop { get; set; }

    public int DatagramsToServer { get; private set; }

    public int DatagramsToClient { get; private set; }

    public long BytesToClient { get; private set; }

    public static TransportParameters Parameters() => new()
    {
        MaxIdleTimeout = 30_000,
        InitialMaxData = 1 << 20,
        InitialMaxStreamDataBidiLocal = 256 * 1024,
        InitialMaxStreamDataBidiRemote = 256 * 1024,
        InitialMaxStreamDataUni = 256 * 1024,
        InitialMaxStreamsBidi = 100,
        InitialMaxStreamsUni = 100,
        ActiveConnectionIdLimit = 4,
    };

    public static ConnectionOptions ServerOptions() => new()
    {
        IsServer = true,
        ApplicationProtocols = ["hq-interop"],
        LocalParameters = Parameters(),
        Certificate = Certificate,
    };

    public static ConnectionOptions DefaultClientOptions() => new()
    {
        IsServer = false,
        ApplicationProtocols = ["hq-interop"],
        LocalParameters = Parameters(),
        ServerName = "localhost",
        SkipCertificateValidation = true,
    };

    /// <summary>Opens the client connection; <paramref name="beforeFirstFlight"/> runs before anything is sent (to queue 0-RTT data).</summary>
    public Connection Connect(byte[]? token = null, Action<Connection>? beforeFirstFlight = null)
    {
        Client = ClientEndpoint.Connect(ClientOptions, ServerAddress, Now, token);
        beforeFirstFlight?.Invoke(Client);
        Flush();
        return Client;
    }

    /// <summary>Runs until <paramref name="condition"/> holds or, at the latest, for <paramref name="limit"/> virtual microseconds.</summary>
    public bool RunUntil(Func<bool> condition, long limit = 60_000_000)
    {
        long end = Now + limit;
        int stepsAtThisTime = 0;
        while (!condition())
        {
            long? next = NextEvent();
            if (next is not long when || when > end)
            {
                Now = Math.Max(Now, end); // nothing happens until then
                return condition();
            }

            // A timer that stays due without anything changing is a livelock: a real host would spin.
            stepsAtThisTime = when <= Now ? stepsAtThisTime + 1 : 0;
            if (stepsAtThisTime > 10_000)
            {
                throw new InvalidOperationException($"livelock: a timer stays due at {Now} µs (server {Server.NextTimeout}, client {ClientEndpoint.NextTimeout})");
            }

            Now = Math.Max(Now, when);
            Step();
        }

        return true;
    }

    /// <summary>Delivers <paramref name="datagram"/> to the server as if from <paramref name="from"/>, after <paramref name="delay"/> (the path's delay by default).</summary>
    public void InjectToServer(SocketAddress from, byte[] datagram, long? delay = null) => _inFlight.Enqueue((true, datagram, from), (Now + (delay ?? Delay), _sequence++));

    /// <summary>Sends whatever both sides have queued.</summary>
    public void Flush()
    {
        Pump(ClientEndpoint, toServer: true);
        Pump(Server, toServer: false);
    }

    public void Dispose()
    {
        Server.Dispose();
        ClientEndpoint.Dispose();
    }

    private long? NextEvent()
    {
        long? next = _inFlight.TryPeek(out _, out (long Time, long) key) ? key.Time : null;
        foreach (long? timer in new[] { Server.NextTimeout, ClientEndpoint.NextTimeout })
        {
            if (timer is long t && (next is null || t < next))
            {
                next = t;
            }
        }

        return next;
    }

    private void Step()
    {
        while (_inFlight.TryPeek(out (bool ToServer, byte[] Datagram, SocketAddress From) item, out (long Time, long) key) && key.Time <= Now)
        {
            _inFlight.Dequeue();
            if (item.ToServer)
            {
                Server.Receive(Now, item.From, item.Datagram);
            }
            else
            {
                ClientEndpoint.Receive(Now, ServerAddress, item.Datagram);
            }
        }

        Server.OnTimeout(Now);
        ClientEndpoint.OnTimeout(Now);
        Flush();
        Server.RemoveClosed();
        ClientEndpoint.RemoveClosed();
    }

    private void Pump(Endpoint endpoint, bool toServer)
    {
        int length;
        if (TouchAllOnPump)
        {
            endpoint.TouchAll(); // tests change connections directly, not through a host
        }
        while ((length = endpoint.Send(Now, _buffer, out SocketAddress? destination)) > 0)
        {
            byte[] datagram = _buffer[..length];
            if (!toServer && destination is not null && !destination.Equals(CurrentClientAddress))
            {
                DatagramsToNowhere++;
                BytesToNowhere += length;
                continue;
            }

            if (toServer)
            {
                DatagramsToServer++;
            }
            else
            {
                DatagramsToClient++;
                BytesToClient += length;
            }

            if (Drop?.Invoke(toServer, datagram) == true || _random.NextDouble() < LossRate)
            {
                continue;
            }

            long departure = Now;
            if (toServer == BottleneckTowardsServer && BottleneckBytesPerSecond > 0)
            {
                // The link is busy until _linkFree; what waits before it is the queue.
                long start = Math.Max(Now, _linkFree);
                if ((start - Now) * BottleneckBytesPerSecond / 1_000_000 + length > BottleneckQueueBytes)
                {
                    BottleneckDrops++;
                    continue;
                }

                departure = start + Math.Max(1, length * 1_000_000L / BottleneckBytesPerSecond);
                _linkFree = departure;
            }

            long arrival = departure + Delay + (Jitter > 0 ? _random.NextInt64(Jitter) : 0);
            _inFlight.Enqueue((toServer, datagram, CurrentClientAddress), (arrival, _sequence++));
        }
    }
}
