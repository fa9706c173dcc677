using System.Collections.Concurrent;
using System.Diagnostics.Tracing;
using System.Net;
using Mallard.Quic;

namespace Mallard.Benchmarks;

/// <summary>
/// Which types the sans-IO core allocates per packet: runs <see cref="ConnectionPathBenchmarks"/>'
/// operations many times under an <see cref="EventListener"/> that receives the runtime's
/// AllocationTick events (one per ~100 KB allocated, naming the type that crossed the mark), and
/// prints the sampled types with their share. The memory diagnoser says how much; this says what.
/// Then the same for whole endpoints on loopback (sockets, host threads and the public API, all
/// threads counted): a client echoing 64-octet datagrams off a server, both reading into a buffer
/// of their own.
/// <c>dotnet run -c Release --project bench/Mallard.Benchmarks -- --allocations [round trips]</c>
/// </summary>
internal sealed class AllocationProfile : EventListener
{
    private const int GcKeyword = 0x1;
    private readonly ConcurrentDictionary<string, long> _sampledBytes = new();
    private volatile bool _recording;

    public static void Run(int operations)
    {
        var path = new ConnectionPathBenchmarks();
        path.Setup();
        Measure("DATAGRAM round trip", operations, path.DatagramsPerRoundTrip, path.DatagramRoundTrip);
        Measure("64 KiB stream write", Math.Max(1, operations / 50), path.DatagramsPerStreamWrite, path.StreamWrite);
        MeasureLoopbackEcho(Math.Max(1_000, operations / 10)).GetAwaiter().GetResult();
    }

    private static async Task MeasureLoopbackEcho(int roundTrips)
    {
        await using QuicListener listener = await QuicListener.ListenAsync(new QuicListenerOptions
        {
            ListenEndPoint = new IPEndPoint(IPAddress.Loopback, 0),
            ApplicationProtocols = ["bench"],
            ConnectionOptions = new QuicConnectionOptions { EnableDatagrams = true },
        });
        Task<QuicConnection> accepted = listener.AcceptConnectionAsync().AsTask();
        await using QuicConnection client = await QuicConnection.ConnectAsync(new QuicClientConnectionOptions
        {
            RemoteEndPoint = listener.LocalEndPoint,
            ApplicationProtocols = ["bench"],
            SkipCertificateValidation = true,
            EnableDatagrams = true,
        });
        await using QuicConnection server = await accepted;
        // No cancellation token: a channel wait that can be cancelled allocates its registration.
        // The loop ends when the connection closes.
        Task echo = Task.Run(async () =>
        {
            var buffer = new byte[1_500];
            while (true)
            {
                int length = await server.ReadDatagramAsync(buffer);
                server.TrySendDatagram(buffer.AsMemory(0, length));
            }
        });

        var payload = new byte[64];
        var answer = new byte[1_500];
        async Task RoundTrips(int count)
        {
            for (int i = 0; i < count; i++)
            {
                client.TrySendDatagram(payload);
                await client.ReadDatagramAsync(answer);
            }
        }

        await RoundTrips(2_000); // warm up: pools, tiered compilation, path MTU discovery
        await Measure("loopback DATAGRAM echo, all threads", roundTrips, 2, () => RoundTrips(roundTrips), allThreads: true);

        // A stream download on the same connection: 64 KiB writes read in 64 KiB reads. Per
        // datagram is estimated as one full packet per MaxDatagramSize octets (the stream's payload per packet is within a few octets of it).
        await using QuicStream stream = await client.OpenOutboundStreamAsync(QuicStreamType.Bidirectional);
        Task<QuicStream> acceptedStream = server.AcceptInboundStreamAsync().AsTask();
        var chunk = new byte[64 * 1024];
        await stream.WriteAsync(chunk);
        await using QuicStream serverStream = await acceptedStream;
        var readBuffer = new byte[64 * 1024];
        async Task Transfer(int chunks)
        {
            Task reader = Task.Run(async () =>
            {
                long left = (long)chunks * chunk.Length;
                while (left > 0)
                {
                    left -= await serverStream.ReadAsync(readBuffer);
                }
            });
            for (int i = 0; i < chunks; i++)
            {
                await stream.WriteAsync(chunk);
            }

            await reader;
        }

        await Transfer(1_024 - 1); // the rest of a warm-up 64 MiB, window growth included
        int measured = 1_024;
        await Measure("loopback 64 KiB stream writes, all threads", measured, Math.Max(1, chunk.Length / client.MaxDatagramSize), () => Transfer(measured), allThreads: true);
        await client.CloseAsync(0);
        await Task.WhenAny(echo);
    }

    private static void Measure(string name, int operations, long datagramsPerOperation, Action operation) =>
        Measure(name, operations, datagramsPerOperation, () =>
        {
            for (int i = 0; i < operations; i++)
            {
                operation();
            }

            return Task.CompletedTask;
        }, allThreads: false).GetAwaiter().GetResult();

    private static async Task Measure(string name, int operations, long datagramsPerOperation, Func<Task> run, bool allThreads)
    {
        using var listener = new AllocationProfile();
        long Allocated() => allThreads ? GC.GetTotalAllocatedBytes(precise: true) : GC.GetAllocatedBytesForCurrentThread();
        long before = Allocated();
        listener._recording = true;
        await run();
        listener._recording = false;
        long bytes = Allocated() - before;
        Console.WriteLine($"{name}: {bytes / (double)operations:F0} B per operation, {bytes / (double)(operations * datagramsPerOperation):F0} B per datagram ({operations} operations)");
        long sampled = listener._sampledBytes.Values.Sum();
        foreach (var (type, typeBytes) in listener._sampledBytes.OrderByDescending(pair => pair.Value).Take(25))
        {
            Console.WriteLine($"  {typeBytes * 100.0 / Math.Max(1, sampled),5:F1} %  {type}");
        }
    }

    protected override void OnEventSourceCreated(EventSource eventSource)
    {
        if (eventSource.Name == "Microsoft-Windows-DotNETRuntime")
        {
            EnableEvents(eventSource, EventLevel.Verbose, (EventKeywords)GcKeyword);
        }
    }

    protected override void OnEventWritten(EventWrittenEventArgs eventData)
    {
        if (!_recording || eventData.EventName is not "GCAllocationTick_V4" and not "GCAllocationTick_V3" || eventData.Payload is null)
        {
            return;
        }

        int typeIndex = eventData.PayloadNames!.IndexOf("TypeName");
        int amountIndex = eventData.PayloadNames.IndexOf("AllocationAmount64");
        string type = typeIndex >= 0 ? eventData.Payload[typeIndex] as string ?? "?" : "?";
        long amount = amountIndex >= 0 ? Convert.ToInt64(eventData.Payload[amountIndex], System.Globalization.CultureInfo.InvariantCulture) : 100_000;
        _sampledBytes.AddOrUpdate(type, amount, (_, total) => total + amount);
    }
}
