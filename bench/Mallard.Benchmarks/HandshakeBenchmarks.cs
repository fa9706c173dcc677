using System.Net;
using BenchmarkDotNet.Attributes;
using Mallard.Quic.Connections;
using Mallard.Quic.Tls;
using Mallard.Quic.Transport;

namespace Mallard.Benchmarks;

/// <summary>
/// One whole QUIC handshake in memory — client and server endpoints joined without sockets or
/// threads, both sides' CPU on one thread — until both have confirmed it: what a handshake costs
/// the core itself, apart from the wake-ups and system calls of a real host.
/// </summary>
[MemoryDiagnoser]
public class HandshakeBenchmarks
{
    private static readonly SocketAddress ClientAddress = new IPEndPoint(IPAddress.Loopback, 50_000).Serialize();
    private static readonly SocketAddress ServerAddress = new IPEndPoint(IPAddress.Loopback, 4433).Serialize();
    private readonly byte[] _buffer = new byte[65_536];
    private Endpoint _server = null!;
    private ConnectionOptions _clientOptions = null!;
    private Connection? _serverConnection;
    private long _now = 1_000_000;

    [GlobalSetup]
    public void Setup()
    {
        TransportParameters Parameters() => new()
        {
            MaxIdleTimeout = 30_000,
            InitialMaxData = 1 << 20,
            InitialMaxStreamDataBidiLocal = 256 << 10,
            InitialMaxStreamDataBidiRemote = 256 << 10,
            InitialMaxStreamsBidi = 100,
            ActiveConnectionIdLimit = 4,
        };
        _server = new Endpoint(new ConnectionOptions
        {
            IsServer = true,
            ApplicationProtocols = ["bench"],
            LocalParameters = Parameters(),
            Certificate = TlsServerOptions.CreateSelfSignedCertificate("localhost"),
        });
        _server.ConnectionAccepted = c => _serverConnection = c;
        _clientOptions = new ConnectionOptions { IsServer = false, ApplicationProtocols = ["bench"], LocalParameters = Parameters(), ServerName = "localhost", SkipCertificateValidation = true };
    }

    [Benchmark]
    public void Handshake()
    {
        var clientEndpoint = new Endpoint(null);
        Connection client = clientEndpoint.Connect(_clientOptions, ServerAddress, _now);
        _serverConnection = null;
        for (int round = 0; round < 1_000 && !(client.HandshakeConfirmed && _serverConnection?.HandshakeConfirmed == true); round++)
        {
            int length;
            while ((length = clientEndpoint.Send(_now, _buffer, out _)) > 0)
            {
                _server.Receive(_now, ClientAddress, _buffer.AsSpan(0, length));
            }

            while ((length = _server.Send(_now, _buffer, out _)) > 0)
            {
                clientEndpoint.Receive(_now, ServerAddress, _buffer.AsSpan(0, length));
            }

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
