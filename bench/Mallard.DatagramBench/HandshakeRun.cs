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
    /// Full handshakes against resumed ones (a session ticket from a first connection, RFC 8446
    /// section 2.2), measured alternately in rounds so that both meet the same machine: the
    /// ratio is what resumption saves.
    /// </summary>
    public static async Task<string> ResumptionAsync(IPEndPoint server, int count, int parallel, int rounds)
    {
        await ParallelAsync(server, Math.Min(count, 300), parallel);
        await WarmUntilJitQuietAsync(server, parallel);
        QuicSessionTicket ticket = await TicketAsync(server);
        await ParallelAsync(server, Math.Min(count, 300), parallel, ticket);
        double full = 0, resumed = 0, fullParallel = 0, resumedParallel = 0;
        for (int round = 0; round < rounds; round++)
        {
            full += await RateAsync(() => SequentialAsync(server, count, null), count);
            resumed += await RateAsync(() => SequentialAsync(server, count, ticket), count);
            fullParallel += await RateAsync(() => ParallelAsync(server, count, parallel), count);
            resumedParallel += await RateAsync(() => ParallelAsync(server, count, parallel, ticket), count);
        }

        return string.Create(CultureInfo.InvariantCulture,
            $"hs_full_seq_per_s={full / rounds:0.0} hs_resumed_seq_per_s={resumed / rounds:0.0} hs_full_par_per_s={fullParallel / rounds:0.0} hs_resumed_par_per_s={resumedParallel / rounds:0.0} resumed_over_full_seq={resumed / full:0.00} resumed_over_full_par={resumedParallel / fullParallel:0.00}");
    }

    private static async Task<double> RateAsync(Func<Task> run, int count)
    {
        long start = Stopwatch.GetTimestamp();
        await run();
        return count / Stopwatch.GetElapsedTime(start).TotalSeconds;
    }

    private static async Task SequentialAsync(IPEndPoint server, int count, QuicSessionTicket? ticket)
    {
        for (int i = 0; i < count; i++)
        {
            await OneAsync(server, ticket);
        }
    }

    private static async Task<QuicSessionTicket> TicketAsync(IPEndPoint server)
    {
        await using QuicConnection connection = await QuicConnection.ConnectAsync(Options(server, null));
        connection.SendDatagram(BenchProtocol.Stamp(64, 0));
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        await connection.ReadDatagramAsync(timeout.Token);
        return connection.SessionTicket ?? throw new InvalidOperationException("the server issued no session ticket");
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

    /// <summary><paramref name="count"/> handshakes, <paramref name="parallel"/> at a time; resumed with <paramref name="ticket"/> when given.</summary>
    private static Task ParallelAsync(IPEndPoint server, int count, int parallel, QuicSessionTicket? ticket = null)
    {
        int next = 0;
        return Task.WhenAll(Enumerable.Range(0, parallel).Select(async _ =>
        {
            while (Interlocked.Increment(ref next) <= count)
            {
                await OneAsync(server, ticket);
            }
        }));
    }

    private static QuicClientConnectionOptions Options(IPEndPoint server, QuicSessionTicket? ticket) => new()
    {
        RemoteEndPoint = server,
        ApplicationProtocols = BenchProtocol.ApplicationProtocols,
        SkipCertificateValidation = true,
        EnableDatagrams = true,
        SessionTicket = ticket,
    };

    private static async Task OneAsync(IPEndPoint server, QuicSessionTicket? ticket = null)
    {
        await using QuicConnection connection = await QuicConnection.ConnectAsync(Options(server, ticket));
        if (ticket is not null && !connection.IsResumed)
        {
            throw new InvalidOperationException("a handshake with a ticket was not resumed");
        }

        connection.SendDatagram(BenchProtocol.Stamp(64, 0));
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        await connection.ReadDatagramAsync(timeout.Token);
        await connection.CloseAsync(0);
    }
}
