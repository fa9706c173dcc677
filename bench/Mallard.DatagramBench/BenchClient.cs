using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using System.Threading.Channels;
using Mallard.Quic;

namespace Mallard.DatagramBench;

/// <summary>Sequential round trips, a windowed echo rate, then a stream download beside 1000 datagrams/s.</summary>
internal static class BenchClient
{
    public static async Task<BenchResult> RunAsync(IPEndPoint server, int pings, int seconds, int window, int megabytes)
    {
        await using QuicConnection connection = await QuicConnection.ConnectAsync(new QuicClientConnectionOptions
        {
            RemoteEndPoint = server,
            ApplicationProtocols = BenchProtocol.ApplicationProtocols,
            SkipCertificateValidation = true,
            EnableDatagrams = true,
        });
        var echoes = Channel.CreateUnbounded<byte[]>();
        _ = Task.Run(async () =>
        {
            await foreach (byte[] echo in connection.ReadDatagramsAsync())
            {
                echoes.Writer.TryWrite(echo);
            }

            echoes.Writer.TryComplete();
        });

        // 1. Sequential round trips of 64-octet datagrams.
        var rtts = new List<double>();
        for (int i = 0; i < pings; i++)
        {
            connection.TrySendDatagram(BenchProtocol.Stamp(64, i));
            using var wait = new CancellationTokenSource(500);
            try
            {
                rtts.Add(BenchProtocol.RoundTripMilliseconds(await echoes.Reader.ReadAsync(wait.Token)));
            }
            catch (OperationCanceledException)
            {
            }
        }

        rtts.Sort();

        // 2. Echoed 1000-octet datagrams per second with a window in flight.
        using var slots = new SemaphoreSlim(window);
        long received = 0;
        using var rateDone = new CancellationTokenSource();
        Task counter = Task.Run(async () =>
        {
            try
            {
                while (true)
                {
                    await echoes.Reader.ReadAsync(rateDone.Token);
                    Interlocked.Increment(ref received);
                    slots.Release();
                }
            }
            catch (OperationCanceledException)
            {
            }
        });
        long start = Stopwatch.GetTimestamp();
        for (long sequence = 0; Stopwatch.GetElapsedTime(start).TotalSeconds < seconds; sequence++)
        {
            if (!await slots.WaitAsync(100))
            {
                slots.Release(window - slots.CurrentCount); // the window was lost: refill it
                continue;
            }

            if (connection.TrySendDatagram(BenchProtocol.Stamp(1000, sequence)) != QuicDatagramSendStatus.Queued)
            {
                slots.Release();
                await Task.Yield();
            }
        }

        double rate = Interlocked.Read(ref received) / Stopwatch.GetElapsedTime(start).TotalSeconds;
        await rateDone.CancelAsync();
        await counter;
        await Task.Delay(200);
        while (echoes.Reader.TryRead(out _))
        {
        }

        // 3. A stream download with 1000 datagrams/s beside it.
        var mixed = new List<double>();
        long sent = 0;
        using var stop = new CancellationTokenSource();
        // A thread of its own that sleeps 1 ms at a time, as Go's ticker goroutine does: a
        // PeriodicTimer on the thread pool ticked only every 4–5 ms while the download kept both
        // cores busy, so Mallard's figure rested on a quarter of quic-go's samples.
        var sender = new Thread(() =>
        {
            long sequence = 0;
            long next = Stopwatch.GetTimestamp();
            long period = Stopwatch.Frequency / 1000;
            while (!stop.IsCancellationRequested)
            {
                if (Stopwatch.GetTimestamp() < next)
                {
                    Thread.Sleep(1);
                    continue;
                }

                next = Math.Max(next + period, Stopwatch.GetTimestamp() - period); // no bursts to catch up
                if (connection.TrySendDatagram(BenchProtocol.Stamp(200, sequence++)) == QuicDatagramSendStatus.Queued)
                {
                    Interlocked.Increment(ref sent);
                }
            }
        }) { IsBackground = true, Name = "datagram sender" };
        sender.Start();
        Task collector = Task.Run(async () =>
        {
            await foreach (byte[] echo in echoes.Reader.ReadAllAsync())
            {
                lock (mixed)
                {
                    mixed.Add(BenchProtocol.RoundTripMilliseconds(echo));
                }
            }
        });
        await using QuicStream stream = await connection.OpenOutboundStreamAsync(QuicStreamType.Bidirectional);
        byte[] header = new byte[8];
        BinaryPrimitives.WriteInt64BigEndian(header, megabytes * 1_000_000L);
        long streamStart = Stopwatch.GetTimestamp();
        await stream.WriteAsync(header, completeWrites: true);
        byte[] buffer = new byte[256 * 1024];
        long total = 0;
        int read;
        while ((read = await stream.ReadAsync(buffer)) > 0)
        {
            total += read;
        }

        double streamSeconds = Stopwatch.GetElapsedTime(streamStart).TotalSeconds;
        await stop.CancelAsync();
        sender.Join();
        await Task.Delay(200);
        lock (mixed)
        {
            mixed.Sort();
            return new BenchResult(
                BenchProtocol.Percentile(rtts, 0.5), BenchProtocol.Percentile(rtts, 0.99), rtts.Count, rate,
                total * 8 / streamSeconds / 1e6, BenchProtocol.Percentile(mixed, 0.5), BenchProtocol.Percentile(mixed, 0.99), sent, mixed.Count);
        }
    }
}
