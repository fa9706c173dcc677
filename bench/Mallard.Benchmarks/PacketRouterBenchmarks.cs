using System.Net;
using BenchmarkDotNet.Attributes;
using Mallard.Balancer.Configuration;
using Mallard.Balancer.Health;
using Mallard.Balancer.Metrics;
using Mallard.Balancer.Routing;
using Mallard.QuicLb;
using Microsoft.Extensions.Configuration;

namespace Mallard.Benchmarks;

/// <summary>
/// The balancer's per-packet routing decision (header parse, QUIC-LB decode, table or Maglev),
/// without I/O. Every branch must allocate nothing.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(warmupCount: 3, iterationCount: 12)]
public class PacketRouterBenchmarks
{
    private static readonly EndpointKey Client = EndpointKey.From(IPEndPoint.Parse("192.0.2.1:5000"));
    private PacketRouter _router = null!;
    private byte[] _plaintext = null!;
    private byte[] _fourPass = null!;
    private byte[] _unroutable = null!;
    private byte[] _initial = null!;
    private long _now;

    [GlobalSetup]
    public void Setup()
    {
        BalancerSettings settings = BalancerConfigLoader.Load(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Mallard:Balancer:Listen:0"] = "127.0.0.1:0",
            ["Mallard:Balancer:Configs:0:Id"] = "0",
            ["Mallard:Balancer:Configs:0:ServerIdLength"] = "4",
            ["Mallard:Balancer:Configs:0:NonceLength"] = "8",
            ["Mallard:Balancer:Configs:1:Id"] = "1",
            ["Mallard:Balancer:Configs:1:ServerIdLength"] = "6",
            ["Mallard:Balancer:Configs:1:NonceLength"] = "8",
            ["Mallard:Balancer:Configs:1:Key"] = "abcdefabcdefabcdefabcdefabcdefab",
            ["Mallard:Balancer:Backends:0:Address"] = "127.0.0.1:4434",
            ["Mallard:Balancer:Backends:0:ServerIds:0"] = "41414141",
            ["Mallard:Balancer:Backends:0:ServerIds:1"] = "89abcdef0123",
            ["Mallard:Balancer:Backends:1:Address"] = "127.0.0.1:4435",
            ["Mallard:Balancer:Backends:1:ServerIds:0"] = "42424242",
        }).Build());
        var backends = settings.Backends.Select(b => new Backend(b, new BackendHealth(), new BackendCounters())).ToList();
        _router = new PacketRouter(new RoutingState(new RoutingSnapshot(settings, backends, 1)));
        _plaintext = Packet(0x40, [0x00, 0x41, 0x41, 0x41, 0x41, 1, 2, 3, 4, 5, 6, 7, 8], 1200);
        byte[] fourPassCid = new ConnectionIdEncoder(settings.Configs[1], Convert.FromHexString("89abcdef0123")).Issue();
        _fourPass = Packet(0x40, fourPassCid, 1200);
        _unroutable = Packet(0x40, [0x00, 0x44, 0x44, 0x44, 0x44, 1, 2, 3, 4, 5, 6, 7, 8], 1200);
        _initial = new byte[1200];
        _initial[0] = 0xc0;
        _initial[4] = 1;
        _initial[5] = 8;
        Convert.FromHexString("a1b2c3d4e5f60718").CopyTo(_initial, 6);
        _initial[14] = 8;
    }

    [Benchmark(Description = "short header, plaintext CID")]
    public Backend? PlaintextConnectionId() => _router.Route(_plaintext, Client, ++_now).Backend;

    [Benchmark(Description = "short header, four-pass CID")]
    public Backend? FourPassConnectionId() => _router.Route(_fourPass, Client, ++_now).Backend;

    [Benchmark(Description = "short header, unknown server ID (4-tuple table)")]
    public Backend? UnroutableToTable() => _router.Route(_unroutable, Client, ++_now).Backend;

    [Benchmark(Description = "Initial, client-chosen DCID (tables)")]
    public Backend? InitialFallback() => _router.Route(_initial, Client, ++_now).Backend;

    private static byte[] Packet(byte first, byte[] connectionId, int size)
    {
        var packet = new byte[size];
        packet[0] = first;
        connectionId.CopyTo(packet, 1);
        return packet;
    }
}
