using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Mallard.Quic;
using Mallard.Quic.Connections;
using Mallard.Quic.Hosting;

namespace Mallard.DatagramBench;

/// <summary>
/// The many-connection load of bench/scale.sh from Mallard.Quic (the twin of datagram-go's scale
/// mode, with the same output line): CONNECTIONS client connections over one UDP socket — one
/// endpoint and its host, as a server has — set up 64 at a time, then each sends a 100-octet
/// DATAGRAM every INTERVAL for SECONDS, spread evenly over the interval, and every echo is timed.
/// A single sender thread walks the schedule; each connection's echoes are read by one waiting
/// task. With MARK, MARK/steady and MARK/done are created when the echo phase starts and ends.
/// </summary>
internal static class ScaleRun
{
    private const int HandshakesAtOnce = 64;

    public static async Task<string> RunAsync(IPEndPoint server, int connections, TimeSpan interval, int seconds, string? mark)
    {
        var endpoint = new Endpoint(null);
        var host = new EndpointHost(EndpointHost.Bind(new IPEndPoint(server.AddressFamily == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Loopback : IPAddress.Loopback, 0)), endpoint, 1500);
        var options = new QuicClientConnectionOptions
        {
            RemoteEndPoint = server,
            ApplicationProtocols = BenchProtocol.ApplicationProtocols,
            SkipCertificateValidation = true,
            EnableDatagrams = true,
            IdleTimeout = TimeSpan.FromSeconds(60),
        };
        ConnectionOptions core = options.CoreOptions(isServer: false, options.ApplicationProtocols, null) with { ServerName = "localhost", SkipCertificateValidation = true };
        host.Start();

        var opened = new QuicConnection?[connections];
        long failed = 0;
        long setupStart = Stopwatch.GetTimestamp();
        using (var gate = new SemaphoreSlim(HandshakesAtOnce))
        {
            await Task.WhenAll(Enumerable.Range(0, connections).Select(async i =>
            {
                await gate.WaitAsync().ConfigureAwait(false);
                try
                {
                    QuicConnection connection;
                    lock (host.Gate)
                    {
                        Connection client = endpoint.Connect(core, server.Serialize(), HostClock.Now);
                        connection = new QuicConnection(host, client, options, ownsHost: false);
                        host.Register(client, connection);
                        host.AfterChangeLocked(client);
                    }

                    using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
                    await connection.WaitForHandshakeAsync(timeout.Token).ConfigureAwait(false);
                    opened[i] = connection;
                }
                catch (Exception failure) when (failure is QuicException or OperationCanceledException)
                {
                    Interlocked.Increment(ref failed);
                }
                finally
                {
                    gate.Release();
                }
            })).ConfigureAwait(false);
        }

        double setup = Stopwatch.GetElapsedTime(setupStart).TotalSeconds;
        QuicConnection[] live = [.. opened.Where(c => c is not null)!];
        if (mark is not null)
        {
            File.WriteAllBytes(Path.Combine(mark, "steady"), []);
        }

        TimeSpan cpuAtSteady = Process.GetCurrentProcess().TotalProcessorTime;
        long sent = 0, echoed = 0;
        var roundTrips = new List<double>(connections * seconds * 2);
        using var stop = new CancellationTokenSource();
        Task[] readers = [.. live.Select(connection => Task.Run(async () =>
        {
            var mine = new List<double>();
            try
            {
                await foreach (byte[] echo in connection.ReadDatagramsAsync(stop.Token).ConfigureAwait(false))
                {
                    mine.Add(BenchProtocol.RoundTripMilliseconds(echo));
                }
            }
            catch (Exception ended) when (ended is OperationCanceledException or QuicException)
            {
            }

            Interlocked.Add(ref echoed, mine.Count);
            lock (roundTrips)
            {
                roundTrips.AddRange(mine);
            }
        }))];

        // One thread walks the schedule: connection i sends at i/N of each interval.
        var sender = new Thread(() =>
        {
            long start = Stopwatch.GetTimestamp();
            long end = start + (long)(seconds * (double)Stopwatch.Frequency);
            double step = interval.TotalSeconds * Stopwatch.Frequency / live.Length;
            long sequence = 0;
            for (long n = 0; ; n++)
            {
                long due = start + (long)(n * step);
                if (due >= end)
                {
                    break;
                }

                long wait = due - Stopwatch.GetTimestamp();
                if (wait > Stopwatch.Frequency / 1000)
                {
                    Thread.Sleep(TimeSpan.FromSeconds((double)wait / Stopwatch.Frequency));
                }

                if (live[n % live.Length].TrySendDatagram(BenchProtocol.Stamp(100, sequence++)) == QuicDatagramSendStatus.Queued)
                {
                    sent++;
                }
            }
        }) { IsBackground = true, Name = "scale sender" };
        sender.Start();
        sender.Join();
        await Task.Delay(TimeSpan.FromSeconds(1)).ConfigureAwait(false); // the last echoes
        if (mark is not null)
        {
            File.WriteAllBytes(Path.Combine(mark, "done"), []);
        }

        double clientCpu = (Process.GetCurrentProcess().TotalProcessorTime - cpuAtSteady).TotalMicroseconds;
        int lost = 0;
        foreach (QuicConnection connection in live)
        {
            lock (connection.Gate)
            {
                lost += connection.Core.State == ConnectionState.Established ? 0 : 1;
            }
        }

        await stop.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(readers).ConfigureAwait(false);
        foreach (QuicConnection connection in live)
        {
            await connection.CloseAsync(0).ConfigureAwait(false);
        }

        await host.DisposeAsync().ConfigureAwait(false);
        roundTrips.Sort();
        return string.Create(CultureInfo.InvariantCulture,
            $"connections={connections} failed={failed} lost={lost} setup_s={setup:0.00} sent={sent} echoed={echoed} echoed_pct={100.0 * echoed / Math.Max(sent, 1):0.000} rtt_p50_ms={BenchProtocol.Percentile(roundTrips, 0.5):0.000} rtt_p99_ms={BenchProtocol.Percentile(roundTrips, 0.99):0.000} client_cpu_us_per_datagram={clientCpu / Math.Max(echoed, 1):0.0}");
    }
}
