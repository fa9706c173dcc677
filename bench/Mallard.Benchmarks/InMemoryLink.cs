using System.Net;
using Mallard.Quic.Connections;
using Mallard.Quic.Tls;
using Mallard.Quic.Transport;

namespace Mallard.Benchmarks;

/// <summary>
/// A client and a server <see cref="Endpoint"/> joined in memory, without sockets or threads: the
/// options both sides start from, and one exchange of whatever each has to send.
/// </summary>
internal static class InMemoryLink
{
    public static readonly SocketAddress ClientAddress = new IPEndPoint(IPAddress.Loopback, 50_000).Serialize();

    public static readonly SocketAddress ServerAddress = new IPEndPoint(IPAddress.Loopback, 4433).Serialize();

    /// <summary>Transport parameters with stream windows of <paramref name="streamWindow"/> octets and a connection window of four of them.</summary>
    public static TransportParameters Parameters(ulong streamWindow, ulong? maxDatagramFrameSize = null) => new()
    {
        MaxIdleTimeout = 600_000,
        InitialMaxData = 4 * streamWindow,
        InitialMaxStreamDataBidiLocal = streamWindow,
        InitialMaxStreamDataBidiRemote = streamWindow,
        InitialMaxStreamDataUni = streamWindow,
        InitialMaxStreamsBidi = 100,
        InitialMaxStreamsUni = 100,
        ActiveConnectionIdLimit = 4,
        MaxDatagramFrameSize = maxDatagramFrameSize,
    };

    /// <summary>A server endpoint with a fresh self-signed certificate for "localhost".</summary>
    public static Endpoint Server(TransportParameters parameters, int maxUdpPayloadSize = 1452) => new(new ConnectionOptions
    {
        IsServer = true,
        ApplicationProtocols = ["bench"],
        LocalParameters = parameters,
        Certificate = TlsServerOptions.CreateSelfSignedCertificate("localhost"),
        MaxUdpPayloadSize = maxUdpPayloadSize,
    });

    /// <summary>Client options that accept the server's certificate unchecked.</summary>
    public static ConnectionOptions Client(TransportParameters parameters, int maxUdpPayloadSize = 1452) => new()
    {
        IsServer = false,
        ApplicationProtocols = ["bench"],
        LocalParameters = parameters,
        ServerName = "localhost",
        SkipCertificateValidation = true,
        MaxUdpPayloadSize = maxUdpPayloadSize,
    };

    /// <summary>Delivers everything <paramref name="client"/>, then <paramref name="server"/>, has to send; returns the datagrams moved.</summary>
    public static int Exchange(Endpoint client, Endpoint server, long now, byte[] buffer)
    {
        int moved = 0;
        int length;
        while ((length = client.Send(now, buffer, out _)) > 0)
        {
            server.Receive(now, ClientAddress, buffer.AsSpan(0, length));
            moved++;
        }

        while ((length = server.Send(now, buffer, out _)) > 0)
        {
            client.Receive(now, ServerAddress, buffer.AsSpan(0, length));
            moved++;
        }

        return moved;
    }
}
