using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Threading.Channels;
using Mallard.Quic;

namespace Mallard.DatagramBench;

/// <summary>
/// The hardening soak: legitimate connections through the balancer — one echoing a 64-octet
/// datagram every 10 ms, one downloading 4 MB streams back to back — first alone, then while
/// <see cref="HostileFlood"/> sends its datagrams to the balancer and straight to the server.
/// Prints one key=value line: echo p50/p99 before and during the flood, downloads completed and
/// failed, datagrams flooded, and whether fresh connections still work afterwards.
/// </summary>
internal static class SoakRun
{
    private const int DownloadBytes = 4 << 20;

    public static async Task<string> RunAsync(IPEndPoint balancer, IPEndPoint server, int seconds, long floodTotal)
    {
        int quietSeconds = Math.Max(10, seconds / 5);
        int floodSeconds = seconds - quietSeconds;
        await using QuicConnection echo = await ConnectAsync(balancer);
        await using QuicConnection bulk = await ConnectAsync(balancer);

        var quiet = new List<double>();
        var flooded = new List<double>();
        List<double> current = quiet;
        long downloads = 0;
        long failures = 0;
        long echoesSent = 0;
        using var stop = new CancellationTokenSource();
        Task echoLoop = Task.Run(async () =>
        {
            Channel<byte[]> echoes = Channel.CreateUnbounded<byte[]>();
            _ = Task.Run(async () =>
            {
                await foreach (byte[] datagram in echo.ReadDatagramsAsync())
                {
                    double rtt = BenchProtocol.RoundTripMilliseconds(datagram);
                    lock (quiet)
                    {
                        current.Add(rtt);
                    }
                }
            });
            while (!stop.IsCancellationRequested)
            {
                echo.TrySendDatagram(BenchProtocol.Stamp(64, echoesSent++));
                await Task.Delay(10);
            }
        });
        Task downloadLoop = Task.Run(async () =>
        {
            byte[] buffer = new byte[64 * 1024];
            byte[] request = new byte[8];
            BinaryPrimitives.WriteInt64BigEndian(request, DownloadBytes);
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    await using QuicStream stream = await bulk.OpenOutboundStreamAsync(QuicStreamType.Bidirectional, stop.Token);
                    await stream.WriteAsync(request, completeWrites: true, stop.Token);
                    long received = 0;
                    for (int n; (n = await stream.ReadAsync(buffer, stop.Token)) > 0;)
                    {
                        received += n;
                    }

                    if (received == DownloadBytes)
                    {
                        Interlocked.Increment(ref downloads);
                    }
                    else
                    {
                        Interlocked.Increment(ref failures);
                    }
                }
                catch (OperationCanceledException)
                {
                    return;
                }
                catch (QuicException)
                {
                    Interlocked.Increment(ref failures);
                    return;
                }
            }
        });

        await Task.Delay(TimeSpan.FromSeconds(quietSeconds));
        long quietDownloads = Interlocked.Read(ref downloads);
        lock (quiet)
        {
            current = flooded;
        }

        using var flood = new HostileFlood(sockets: 64);
        IPEndPoint[] targets = [balancer, server];
        var clock = Stopwatch.StartNew();
        await Task.Run(() =>
        {
            // Paced in 1 ms steps so the flood spreads evenly over its seconds.
            double perMillisecond = floodTotal / (floodSeconds * 1000.0);
            while (clock.Elapsed.TotalSeconds < floodSeconds)
            {
                long due = (long)(clock.Elapsed.TotalMilliseconds * perMillisecond);
                while (flood.Sent < Math.Min(due, floodTotal))
                {
                    flood.SendOne(targets[flood.Sent % 2]);
                }

                Thread.Sleep(1);
            }
        });
        await stop.CancelAsync();
        await Task.WhenAll(echoLoop, downloadLoop).WaitAsync(TimeSpan.FromSeconds(30)).ConfigureAwait(false);

        bool alive = await StillServesAsync(balancer) && await StillServesAsync(server);
        quiet.Sort();
        flooded.Sort();
        double p99Quiet = BenchProtocol.Percentile(quiet, 0.99);
        double p99Flood = BenchProtocol.Percentile(flooded, 0.99);
        return string.Create(CultureInfo.InvariantCulture,
            $"quiet_s={quietSeconds} flood_s={floodSeconds} flooded={flood.Sent} echo_sent={echoesSent} echo_quiet={quiet.Count} echo_flood={flooded.Count} " +
            $"p50_quiet_ms={BenchProtocol.Percentile(quiet, 0.5):0.###} p99_quiet_ms={p99Quiet:0.###} p50_flood_ms={BenchProtocol.Percentile(flooded, 0.5):0.###} p99_flood_ms={p99Flood:0.###} " +
            $"p99_ratio={(p99Quiet > 0 ? p99Flood / p99Quiet : 0):0.##} downloads_quiet={quietDownloads} downloads_flood={downloads - quietDownloads} download_failures={failures} alive_after={alive}");
    }

    private static ValueTask<QuicConnection> ConnectAsync(IPEndPoint address) => QuicConnection.ConnectAsync(new QuicClientConnectionOptions
    {
        RemoteEndPoint = address,
        ApplicationProtocols = BenchProtocol.ApplicationProtocols,
        SkipCertificateValidation = true,
        EnableDatagrams = true,
        KeepAliveInterval = TimeSpan.FromSeconds(5),
    });

    private static async Task<bool> StillServesAsync(IPEndPoint address)
    {
        try
        {
            await using QuicConnection connection = await ConnectAsync(address);
            connection.TrySendDatagram(BenchProtocol.Stamp(64, 0));
            using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await foreach (byte[] _ in connection.ReadDatagramsAsync(wait.Token))
            {
                return true;
            }
        }
        catch (Exception error) when (error is QuicException or OperationCanceledException)
        {
        }

        return false;
    }
}
