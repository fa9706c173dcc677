using System.Diagnostics;
using System.Globalization;
using System.Net;
using Mallard.Quic;

namespace Mallard.DatagramBench;

/// <summary>
/// Handshakes per second: COUNT connections one after another, then COUNT with PARALLEL at a time;
/// each connects, echoes one 64-octet datagram and closes, so every handshake is complete and used.
/// </summary>
internal static class HandshakeRun
{
    public static async Task<string> RunAsync(IPEndPoint server, int count, int parallel)
    {
        // Not counted: the first handshakes run while the JIT compiles and recompiles the code
        // they use (tiered compilation, with its instrumented tier in between). A long-running
        // client or server is past that; the quic-go peer is compiled ahead of time, and so is
        // this program when published with Native AOT (where nothing is ever compiled).
        await ParallelAsync(server, Math.Min(count, 300), parallel);
        await WarmUntilJitQuietAsync(server, parallel);
        long start = Stopwatch.GetTimestamp();
        for (int i = 0; i < count; i++)
        {
            await OneAsync(server);
        }

        double sequential = count / Stopwatch.GetElapsedTime(start).TotalSeconds;
        start = Stopwatch.GetTimestamp();
        await ParallelAsync(server, count, parallel);
        double concurrent = count / Stopwatch.GetElapsedTime(start).TotalSeconds;
        return string.Create(CultureInfo.InvariantCulture, $"hs_seq_per_s={sequential:0.0} hs_par_per_s={concurrent:0.0}");
    }

    /// <summary>
    /// Keeps making handshakes until the JIT has compiled nothing for a second (at most 30 s):
    /// 300 handshakes end while the tiered compiler's background thread is still recompiling hot
    /// methods, which took a fifth of the client's CPU in the measured window (perf, 2026-11-27).
    /// </summary>
    private static async Task WarmUntilJitQuietAsync(IPEndPoint server, int parallel)
    {
        long deadline = Stopwatch.GetTimestamp() + Stopwatch.Frequency * 30;
        long compiled = System.Runtime.JitInfo.GetCompiledMethodCount();
        long quietSince = Stopwatch.GetTimestamp();
        while (Stopwatch.GetTimestamp() < deadline && Stopwatch.GetElapsedTime(quietSince) < TimeSpan.FromSeconds(1))
        {
            await ParallelAsync(server, parallel * 4, parallel);
            long now = System.Runtime.JitInfo.GetCompiledMethodCount();
            if (now != compiled)
            {
                compiled = now;
                quietSince = Stopwatch.GetTimestamp();
            }
        }
    }

    /// <summary><paramref name="count"/> handshakes, <paramref name="parallel"/> at a time.</summary>
    private static Task ParallelAsync(IPEndPoint server, int count, int parallel)
    {
        int next = 0;
        return Task.WhenAll(Enumerable.Range(0, parallel).Select(async _ =>
        {
            while (Interlocked.Increment(ref next) <= count)
            {
                await OneAsync(server);
            }
        }));
    }

    private static async Task OneAsync(IPEndPoint server)
    {
        await using QuicConnection connection = await QuicConnection.ConnectAsync(new QuicClientConnectionOptions
        {
            RemoteEndPoint = server,
            ApplicationProtocols = BenchProtocol.ApplicationProtocols,
            SkipCertificateValidation = true,
            EnableDatagrams = true,
        });
        connection.SendDatagram(BenchProtocol.Stamp(64, 0));
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        await connection.ReadDatagramAsync(timeout.Token);
        await connection.CloseAsync(0);
    }
}
