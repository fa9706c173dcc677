namespace Mallard.Quic.Congestion;

/// <summary>
/// NewReno as RFC 9002 section 7 and appendix B describe it for QUIC: halving on a congestion
/// event and additive increase of one maximum datagram per window acknowledged. Selected with
/// <see cref="QuicCongestionControl.NewReno"/>; CUBIC is the default.
/// </summary>
internal sealed class NewRenoController(long maxDatagramSize = 1200) : CongestionController(maxDatagramSize)
{
    /// <summary>kLossReductionFactor, 0.5.</summary>
    private const int LossReductionDivisor = 2;

    private long _bytesAckedInAvoidance;

    protected override void GrowInAvoidance(long bytes, long now, long smoothedRtt)
    {
        _bytesAckedInAvoidance += bytes;
        if (_bytesAckedInAvoidance >= CongestionWindow)
        {
            _bytesAckedInAvoidance -= CongestionWindow;
            CongestionWindow += MaxDatagramSize;
        }
    }

    protected override void ReduceWindow(long now)
    {
        SlowStartThreshold = CongestionWindow / LossReductionDivisor;
        CongestionWindow = Math.Max(SlowStartThreshold, MinimumWindow);
        _bytesAckedInAvoidance = 0;
    }

    protected override void OnCollapse() => _bytesAckedInAvoidance = 0;
}
