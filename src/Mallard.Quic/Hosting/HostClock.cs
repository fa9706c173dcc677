using System.Diagnostics;

namespace Mallard.Quic.Hosting;

/// <summary>The monotonic microsecond clock the sans-IO core runs on.</summary>
internal static class HostClock
{
    public static long Now => (long)(Stopwatch.GetTimestamp() * (1_000_000.0 / Stopwatch.Frequency));
}
