using BenchmarkDotNet.Attributes;
using Mallard.Quic.Connections;

namespace Mallard.Benchmarks;

/// <summary>
/// One whole QUIC handshake in memory — client and server endpoints joined without sockets or
/// threads, both sides' CPU on one thread — until both have confirmed it: what a handshake costs
/// the core itself, apart from the wake-ups and system calls of a real host.
/// </summary>
[MemoryDiagnoser]
public class HandshakeBenchmarks
{
    private readonly byte[] _buffer = new byte[65_536];
    private Endpoint _server = null!;
    private ConnectionOptions _clientOptions = null!;
    private Connection? _serverConnection;
    private long _now = 1_000_000;

    [GlobalSetup]
    public void Setup()
    {
        _server = InMemoryLink.Server(InMemoryLink.Parameters(256 << 10));
        _server.ConnectionAccepted = c => _serverConnection = c;
        _clientOptions = InMemoryLink.Client(InMemoryLink.Parameters(256 << 10));
    }

    [Benchmark]
    public void Handshake()
    {
        var clientEndpoint = new Endpoint(null);
        Connection client = clientEndpoint.Connect(_clientOptions, InMemoryLink.ServerAddress, _now);
        _serverConnection = null;
        for (int round = 0; round < 1_000 && !(client.HandshakeConfirmed && _serverConnection?.HandshakeConfirmed == true); round++)
        {
            InMemoryLink.Exchange(clientEndpoint, _server, _now, _buffer);
            _now += 100;
        }

        if (!client.HandshakeConfirmed)
        {
            throw new InvalidOperationException($"the handshake did not complete: client {client.State} {client.Error}");
        }

        // Forget both sides, as a closed connection would be.
        client.Close(_now, 0);
        _serverConnection!.Close(_now, 0);
        _now += 10_000_000;
        _server.OnTimeout(_now);
        _server.RemoveClosed(); // as the host does each cycle
        clientEndpoint.Dispose();
    }
}
