using System.Globalization;

namespace Mallard.UdpLoad;

/// <summary>What one load run measured.</summary>
internal sealed record LoadResult(long Requests, long Responses, double Seconds, double P50Microseconds, double P99Microseconds, double P999Microseconds)
{
    public double Rate => Responses / Seconds;

    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"requests={Requests} responses={Responses} rate={Rate:0} p50_us={P50Microseconds:0} p99_us={P99Microseconds:0} p999_us={P999Microseconds:0}");
}
