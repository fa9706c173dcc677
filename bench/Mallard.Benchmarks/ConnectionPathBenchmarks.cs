using BenchmarkDotNet.Attributes;
using Mallard.Quic.Connections;

namespace Mallard.Benchmarks;

/// <summary>
/// The sans-IO core's cost per packet, without sockets or threads: a client and a server
/// endpoint joined in memory exchange a DATAGRAM round trip, or 64 KiB of stream data and the
/// acknowledgements for it. The memory diagnoser's bytes per operation, divided by the datagrams
/// each operation moves (<see cref="DatagramsPerRoundTrip"/>, <see cref="DatagramsPerStreamWrite"/>,
/// printed at setup), is the allocation per packet the speed issue wants at zero.
/// </summary>
[MemoryDiagnoser]
public class ConnectionPathBenchmarks
{
    private readonly byte[] _buffer = new byte[65_536];
    private readonly byte[] _payload = new byte[64];
    private readonly byte[] _chunk = new byte[64 * 1024];
    private readonly byte[] _read = new byte[64 * 1024];
    private Endpoint _server = null!;
    private Endpoint _clientEndpoint = null!;
    private Connection _client = null!;
    private Connection _serverConnection = null!;
    private ulong _stream;
    private long _now = 1_000_000;
    private long _datagrams;
    private int _received;
    private readonly byte[] _datagram = new byte[1_500];
    private Func<bool> _serverHasDatagram = null!;
    private Func<bool> _clientHasDatagram = null!;
    private Func<bool> _streamDelivered = null!;

    public long DatagramsPerRoundTrip { get; private set; }

    public long DatagramsPerStreamWrite { get; private set; }

    [GlobalSetup]
    public void Setup()
    {
        // The conditions Pump waits for, made once so that the operations measure only the core.
        _serverHasDatagram = () => _serverConnection.DatagramsWaiting > 0;
        _clientHasDatagram = () => _client.DatagramsWaiting > 0;
        _streamDelivered = StreamDelivered;
        _server = InMemoryLink.Server(InMemoryLink.Parameters(16 << 20, maxDatagramFrameSize: 65_535), maxUdpPayloadSize: 1350);
        _server.ConnectionAccepted = c => _serverConnection = c;
        _clientEndpoint = new Endpoint(null);
        _client = _clientEndpoint.Connect(InMemoryLink.Client(InMemoryLink.Parameters(16 << 20, maxDatagramFrameSize: 65_535), maxUdpPayloadSize: 1350), InMemoryLink.ServerAddress, _now);
        Pump(() => _client.HandshakeConfirmed && _serverConnection?.HandshakeConfirmed == true);
        _client.TryOpenStream(true, out _stream);

        // Warm up both paths, then count the datagrams one operation moves.
        for (int i = 0; i < 20; i++)
        {
            DatagramRoundTrip();
            StreamWrite();
        }

        long before = _datagrams;
        DatagramRoundTrip();
        DatagramsPerRoundTrip = _datagrams - before;
        before = _datagrams;
        StreamWrite();
        DatagramsPerStreamWrite = _datagrams - before;
        Console.WriteLine($"// datagrams per round trip: {DatagramsPerRoundTrip}; per 64 KiB stream write: {DatagramsPerStreamWrite}");
    }

    [Benchmark]
    public void DatagramRoundTrip()
    {
        _client.QueueDatagram(_payload, track: false, out _);
        _clientEndpoint.Touch(_client); // as the host does after an application call
        Pump(_serverHasDatagram);
        _serverConnection.TryReadDatagram(_datagram, out int length);
        _serverConnection.QueueDatagram(_datagram.AsSpan(0, length), track: false, out _);
        _server.Touch(_serverConnection);
        Pump(_clientHasDatagram);
        _client.TryReadDatagram(_datagram, out _);
    }

    [Benchmark]
    public void StreamWrite()
    {
        _client.WriteStream(_stream, _chunk, fin: false);
        _clientEndpoint.Touch(_client);
        _received = 0;
        Pump(_streamDelivered);
    }

    private bool StreamDelivered()
    {
        _serverConnection.TryAcceptStream(out _);
        int read;
        while ((read = _serverConnection.ReadStream(_now, _stream, _read, out _)) > 0)
        {
            _received += read;
            _server.Touch(_serverConnection); // reading may open the flow-control window
        }

        return _received >= _chunk.Length && _client.BytesInFlight == 0;
    }

    /// <summary>Moves datagrams both ways and fires due timers, advancing the clock only when nothing else moves.</summary>
    private void Pump(Func<bool> done)
    {
        for (int rounds = 0; rounds < 100_000; rounds++)
        {
            int moved = InMemoryLink.Exchange(_clientEndpoint, _server, _now, _buffer);
            _datagrams += moved;

            if (done())
            {
                return;
            }

            if (moved == 0)
            {
                long next = Math.Min(_server.NextTimeout ?? long.MaxValue, _clientEndpoint.NextTimeout ?? long.MaxValue);
                _now = next == long.MaxValue ? _now + 1_000 : Math.Max(_now + 1, next);
                _server.OnTimeout(_now);
                _clientEndpoint.OnTimeout(_now);
            }
        }

        throw new InvalidOperationException("the in-memory path made no progress");
    }
}
