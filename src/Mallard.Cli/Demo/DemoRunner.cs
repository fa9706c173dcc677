using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using Mallard.Balancer;
using Mallard.Balancer.Configuration;
using Mallard.Quic;
using Mallard.QuicLb;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;

namespace Mallard.Cli.Demo;

/// <summary>
/// <c>mallard demo</c>: on loopback, two Mallard.Quic servers whose connection IDs carry their
/// QUIC-LB server IDs, mallard lb in front of them, a NAT in front of the client, and one QUIC
/// connection that downloads while it sends telemetry datagrams. Halfway through, the NAT gives
/// the client a new public port. The balancer still routes by connection ID to the same server,
/// which follows the client to its new address, and the download completes intact. The
/// balancer's live dashboard is up throughout; with a hold time, everything keeps running after
/// the download (telemetry still flowing) so that it can be looked at.
/// </summary>
internal sealed class DemoRunner(long megabytes, ReturnPathMode returnPath, TextWriter output, TimeSpan? hold = null)
{
    private static readonly QuicLbConfig Config = new(0, 4, 8);
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    public async Task<int> RunAsync(CancellationToken stop)
    {
        Log("mallard demo: one QUIC connection through mallard lb while the client's NAT rebinds");
        await using DemoServer a = await DemoServer.StartAsync("A", "41414141", Config, Log).ConfigureAwait(false);
        await using DemoServer b = await DemoServer.StartAsync("B", "42424242", Config, Log).ConfigureAwait(false);
        await using LoadBalancer balancer = await LoadBalancer.StartAsync(Settings(a.EndPoint, a.ServerId, b.EndPoint, b.ServerId, returnPath), NullLoggerFactory.Instance, cancellation: stop).ConfigureAwait(false);
        IPEndPoint front = balancer.ListenEndpoints[0];
        await using var nat = new UdpNat(front);
        Log($"servers   A on {a.EndPoint} (server ID {a.ServerId}), B on {b.EndPoint} (server ID {b.ServerId}); QUIC-LB config 0, plaintext");
        Log($"balancer  mallard lb on {front}, routing by connection ID, return path {(returnPath == ReturnPathMode.PerConnection ? "per-connection" : "per-client-address")}");
        Log($"NAT       the client sends to {nat.EndPoint}; the balancer sees it as {nat.PublicEndPoint}");
        Log($"dashboard http://{balancer.AdminEndpoint}/ (the balancer's live view; /status and /metrics beside it)");

        await using QuicConnection connection = await QuicConnection.ConnectAsync(new QuicClientConnectionOptions
        {
            RemoteEndPoint = nat.EndPoint,
            ApplicationProtocols = [DemoServer.ApplicationProtocol],
            SkipCertificateValidation = true, // the demo's servers have self-signed certificates
            EnableDatagrams = true,
        }, stop).ConfigureAwait(false);
        // The server announces the connection once its side of the handshake completes too.
        for (int wait = 0; wait < 200 && a.Connections + b.Connections == 0; wait++)
        {
            await Task.Delay(10, stop).ConfigureAwait(false);
        }

        DemoServer owner = a.Connections > 0 ? a : b;
        Log($"client    connected; the server's connection IDs name server {owner.Name} ({owner.ServerId}), so every packet goes there");

        long total = megabytes * 1_000_000;
        using var telemetryStop = CancellationTokenSource.CreateLinkedTokenSource(stop);
        Task<long> telemetry = SendTelemetryAsync(connection, telemetryStop.Token);
        await using QuicStream stream = await connection.OpenOutboundStreamAsync(QuicStreamType.Bidirectional, stop).ConfigureAwait(false);
        byte[] request = new byte[8];
        BinaryPrimitives.WriteInt64BigEndian(request, total);
        await stream.WriteAsync(request, completeWrites: true, stop).ConfigureAwait(false);
        Log($"client    downloading {megabytes} MB on a stream, a telemetry datagram every 10 ms beside it");

        var download = new DemoDownload(total, nat, Log);
        try
        {
            await download.ReadAsync(stream, stop).ConfigureAwait(false);
        }
        catch (Exception failure) when (failure is QuicException or OperationCanceledException)
        {
            await telemetryStop.CancelAsync().ConfigureAwait(false);
            Log($"client    the connection was lost after {download.Received:N0} of {total:N0} octets: {failure.Message}");
            return 1;
        }

        long received = download.Received;
        bool intact = download.Intact;
        bool survived = received == total && intact && a.Connections + b.Connections == 1;
        if (hold is TimeSpan holdFor)
        {
            Log(holdFor == Timeout.InfiniteTimeSpan
                ? $"holding   telemetry keeps flowing; the dashboard is at http://{balancer.AdminEndpoint}/ — Ctrl+C to stop"
                : $"holding   telemetry keeps flowing for {holdFor.TotalSeconds:0} s; the dashboard is at http://{balancer.AdminEndpoint}/");
            try
            {
                await Task.Delay(holdFor, stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }
        }

        await telemetryStop.CancelAsync().ConfigureAwait(false);
        long datagramsSent = await telemetry.ConfigureAwait(false);
        QuicDatagramStatistics datagrams = connection.DatagramStatistics;
        Log($"client    100 %: {received:N0} octets, {(intact ? "every octet as sent" : "CORRUPTED")}; {datagramsSent} telemetry datagrams sent, {datagrams.Received} echoed");
        Log(survived
            ? $"the connection survived the rebinding: one connection, no reconnect, server {owner.Name} all along"
            : "the connection did not survive the rebinding");
        await connection.CloseAsync(0, CancellationToken.None).ConfigureAwait(false);
        return survived ? 0 : 1;
    }

    private static async Task<long> SendTelemetryAsync(QuicConnection connection, CancellationToken stop)
    {
        long sent = 0;
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(10));
        try
        {
            while (await timer.WaitForNextTickAsync(stop).ConfigureAwait(false))
            {
                byte[] sample = new byte[64];
                BinaryPrimitives.WriteInt64BigEndian(sample, sent);
                if (connection.TrySendDatagram(sample) == QuicDatagramSendStatus.Queued)
                {
                    sent++;
                }
            }
        }
        catch (OperationCanceledException)
        {
        }

        return sent;
    }

    /// <summary>The demo balancer: on a free loopback port, QUIC-LB config 0 (4-octet plaintext server IDs), two backends.</summary>
    internal static BalancerSettings Settings(IPEndPoint a, string aServerId, IPEndPoint b, string bServerId, ReturnPathMode returnPath) =>
        BalancerConfigLoader.Load(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Mallard:Balancer:Listen:0"] = "127.0.0.1:0",
            ["Mallard:Balancer:Admin"] = "127.0.0.1:0",
            ["Mallard:Balancer:ReturnPath"] = returnPath == ReturnPathMode.PerConnection ? "per-connection" : "per-client-address",
            ["Mallard:Balancer:Configs:0:Id"] = "0",
            ["Mallard:Balancer:Configs:0:ServerIdLength"] = "4",
            ["Mallard:Balancer:Configs:0:NonceLength"] = "8",
            ["Mallard:Balancer:Backends:0:Address"] = a.ToString(),
            ["Mallard:Balancer:Backends:0:ServerIds:0"] = aServerId,
            ["Mallard:Balancer:Backends:1:Address"] = b.ToString(),
            ["Mallard:Balancer:Backends:1:ServerIds:0"] = bServerId,
        }).Build());

    private void Log(string line)
    {
        lock (output)
        {
            output.WriteLine($"[{_clock.Elapsed.TotalSeconds,5:0.00} s] {line}");
            output.Flush();
        }
    }
}
