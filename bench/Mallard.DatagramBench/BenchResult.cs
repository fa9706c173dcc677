using System.Globalization;

namespace Mallard.DatagramBench;

/// <summary>One client run, printed in the same key=value form as the quic-go program.</summary>
internal sealed record BenchResult(double RttP50, double RttP99, int PingsAnswered, double Rate, double MixedStreamMbps, double MixedP50, double MixedP99, long MixedSent, int MixedEchoed)
{
    public override string ToString() => string.Create(
        CultureInfo.InvariantCulture,
        $"rtt_p50_ms={RttP50:0.000} rtt_p99_ms={RttP99:0.000} pings_answered={PingsAnswered} rate_dps={Rate:0} mixed_stream_mbps={MixedStreamMbps:0.0} mixed_dg_p50_ms={MixedP50:0.000} mixed_dg_p99_ms={MixedP99:0.000} mixed_dg_sent={MixedSent} mixed_dg_echoed={MixedEchoed}");
}
