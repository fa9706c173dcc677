using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Mallard.UdpLoad;

/// <summary>
/// Paced echo probe: one client socket sends RATE numbered datagrams per second (the same
/// QUIC-shaped short header as <see cref="LoadGenerator"/>) for a fixed time, whatever comes back,
/// and reports every round trip's percentiles, the worst one and the datagrams that never came
/// back. Unlike the closed-loop load, a stall shows as latency of the datagrams sent during it.
/// </summary>
internal static class PacedProbe
{
    // Echoes that arrive this long after the last send still count.
    private const int DrainMilliseconds = 2000;

    public static string Run(IPEndPoint target, int rate, TimeSpan duration, int size)
    {
        int count = (int)(rate * duration.TotalSeconds);
        long[] sentAt = new long[count];
        long[] roundTrip = new long[count];
        Array.Fill(roundTrip, -1);
        using var socket = new Socket(target.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        socket.ReceiveBufferSize = 4 << 20;
        socket.Connect(target);
        socket.ReceiveTimeout = 100;
        bool sending = true;
        long lastSend = 0;
        var receiver = new Thread(() =>
        {
            byte[] reply = new byte[65_536];
            while (sending || Stopwatch.GetElapsedTime(Volatile.Read(ref lastSend)).TotalMilliseconds < DrainMilliseconds)
            {
                int length;
                try
                {
                    length = socket.Receive(reply);
                }
                catch (SocketException)
                {
                    continue;
                }

                long now = Stopwatch.GetTimestamp();
                if (length >= 14 && BinaryPrimitives.ReadInt32LittleEndian(reply.AsSpan(10)) is int sequence && sequence >= 0 && sequence < count && roundTrip[sequence] < 0)
                {
                    roundTrip[sequence] = now - sentAt[sequence];
                }
            }
        }) { IsBackground = true };
        receiver.Start();

        byte[] request = new byte[size];
        request[0] = 0x40;
        "AAAA"u8.CopyTo(request.AsSpan(2));
        // Whatever is due leaves at each wake-up (about every millisecond): pacing without a spinning core.
        long start = Stopwatch.GetTimestamp();
        for (int i = 0; i < count;)
        {
            long now = Stopwatch.GetTimestamp();
            for (; i < count && start + (long)((double)i / rate * Stopwatch.Frequency) <= now; i++)
            {
                BinaryPrimitives.WriteInt32LittleEndian(request.AsSpan(10), i);
                sentAt[i] = Stopwatch.GetTimestamp();
                socket.Send(request);
                Volatile.Write(ref lastSend, sentAt[i]);
            }

            Thread.Sleep(1);
        }

        sending = false;
        receiver.Join();
        long[] answered = [.. roundTrip.Where(t => t >= 0)];
        Array.Sort(answered);
        double Microseconds(long ticks) => ticks * 1e6 / Stopwatch.Frequency;
        double Percentile(double p) => answered.Length == 0 ? double.NaN : Microseconds(answered[Math.Min(answered.Length - 1, (int)(p * answered.Length))]);
        return string.Create(CultureInfo.InvariantCulture,
            $"sent={count} echoed={answered.Length} lost={count - answered.Length} p50_us={Percentile(0.50):0} p99_us={Percentile(0.99):0} p999_us={Percentile(0.999):0} max_us={(answered.Length == 0 ? double.NaN : Microseconds(answered[^1])):0}");
    }
}
