using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Mallard.UdpLoad;

/// <summary>
/// Request/response load: FLOWS client sockets, each with one request in flight (so the rate
/// reflects latency through the proxy), QUIC-shaped short-header datagrams whose destination
/// connection ID carries server ID 41414141 under a plaintext QUIC-LB config 0. Each request
/// carries its send time; the echo lets the client measure the round trip. Bounded by time.
/// </summary>
internal static class LoadGenerator
{
    private const int Window = 4;

    public static LoadResult Run(IPEndPoint target, int flows, TimeSpan duration, int size)
    {
        var latencies = new List<long>[flows];
        long[] sent = new long[flows];
        var threads = new Thread[flows];
        long stopAt = Stopwatch.GetTimestamp() + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        for (int f = 0; f < flows; f++)
        {
            int flow = f;
            latencies[flow] = new List<long>(1 << 20);
            threads[flow] = new Thread(() => sent[flow] = RunFlow(target, flow, size, stopAt, latencies[flow])) { IsBackground = true };
        }

        long start = Stopwatch.GetTimestamp();
        Array.ForEach(threads, t => t.Start());
        Array.ForEach(threads, t => t.Join());
        double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;

        long[] all = [.. latencies.SelectMany(l => l)];
        Array.Sort(all);
        double Percentile(double p) => all.Length == 0 ? double.NaN : all[Math.Min(all.Length - 1, (int)(p * all.Length))] * 1e6 / Stopwatch.Frequency;
        return new LoadResult(sent.Sum(), all.Length, seconds, Percentile(0.50), Percentile(0.99), Percentile(0.999));
    }

    private static long RunFlow(IPEndPoint target, int flow, int size, long stopAt, List<long> latencies)
    {
        using var socket = new Socket(target.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        socket.Connect(target);
        socket.ReceiveTimeout = 200;
        byte[] request = new byte[size];
        request[0] = 0x40;
        request[1] = 0x00;
        "AAAA"u8.CopyTo(request.AsSpan(2));
        BinaryPrimitives.WriteInt32LittleEndian(request.AsSpan(6), flow);
        byte[] reply = new byte[65_536];
        long sent = 0;
        int inFlight = 0;
        while (Stopwatch.GetTimestamp() < stopAt)
        {
            while (inFlight < Window)
            {
                BinaryPrimitives.WriteInt64LittleEndian(request.AsSpan(14), Stopwatch.GetTimestamp());
                socket.Send(request);
                sent++;
                inFlight++;
            }

            try
            {
                int length = socket.Receive(reply);
                if (length >= 22)
                {
                    latencies.Add(Stopwatch.GetTimestamp() - BinaryPrimitives.ReadInt64LittleEndian(reply.AsSpan(14)));
                }

                inFlight--;
            }
            catch (SocketException)
            {
                // A lost datagram: refill the window.
                inFlight = 0;
            }
        }

        return sent;
    }
}
