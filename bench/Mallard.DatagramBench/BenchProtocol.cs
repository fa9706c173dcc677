using System.Buffers.Binary;
using System.Diagnostics;

namespace Mallard.DatagramBench;

/// <summary>
/// ALPN "mallard-bench": every DATAGRAM is echoed unchanged; a bidirectional stream carries an
/// 8-octet big-endian length and is answered with that many octets and FIN. Datagram payloads
/// start with a sequence number and the send time, so an echo carries its own round-trip time.
/// </summary>
internal static class BenchProtocol
{
    public static readonly IReadOnlyList<string> ApplicationProtocols = ["mallard-bench"];

    public static byte[] Stamp(int size, long sequence)
    {
        byte[] payload = new byte[size];
        BinaryPrimitives.WriteInt64BigEndian(payload, sequence);
        BinaryPrimitives.WriteInt64BigEndian(payload.AsSpan(8), Stopwatch.GetTimestamp());
        return payload;
    }

    public static double RoundTripMilliseconds(byte[] echo) =>
        Stopwatch.GetElapsedTime(BinaryPrimitives.ReadInt64BigEndian(echo.AsSpan(8))).TotalMilliseconds;

    public static double Percentile(List<double> sorted, double p) => sorted.Count == 0 ? 0 : sorted[(int)(p * (sorted.Count - 1))];
}
