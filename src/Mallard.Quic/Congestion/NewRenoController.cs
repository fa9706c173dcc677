namespace Mallard.Quic.Congestion;

/// <summary>
/// NewReno as RFC 9002 section 7 and appendix B describe it for QUIC: slow start, a recovery
/// period that starts at the first loss of a flight, halving on loss, additive increase of one
/// maximum datagram per window, and the minimum window on persistent congestion.
/// </summary>
internal sealed class NewRenoController : ICongestionController
{
    /// <summary>kLossReductionFactor, 0.5.</summary>
    private const int LossReductionDivisor = 2;

    private readonly long _maxDatagramSize;
    private long _slowStartThreshold = long.MaxValue;
    private long _recoveryStartTime = long.MinValue;
    private long _bytesAckedInAvoidance;

    public NewRenoController(long maxDatagramSize = 1200)
    {
        _maxDatagramSize = maxDatagramSize;
        CongestionWindow = InitialWindow(maxDatagramSize);
    }

    public long CongestionWindow { get; private set; }

    public long BytesInFlight { get; private set; }

    public long MinimumWindow => 2 * _maxDatagramSize;

    public bool InSlowStart => CongestionWindow < _slowStartThreshold;

    /// <summary>kInitialWindow: ten datagrams, bounded by 14,720 octets or two datagrams (RFC 9002 section 7.2).</summary>
    public static long InitialWindow(long maxDatagramSize) => Math.Min(10 * maxDatagramSize, Math.Max(14_720, 2 * maxDatagramSize));

    public void ResetForNewPath()
    {
        CongestionWindow = InitialWindow(_maxDatagramSize);
        _slowStartThreshold = long.MaxValue;
        _recoveryStartTime = long.MinValue;
        _bytesAckedInAvoidance = 0;
    }

    public bool CanSend(long bytes) => BytesInFlight + bytes <= CongestionWindow;

    public void OnPacketSent(long bytes) => BytesInFlight += bytes;

    public void OnPacketAcked(long bytes, long sentTime)
    {
        BytesInFlight = Math.Max(0, BytesInFlight - bytes);

        // Packets sent before the recovery period began do not grow the window (section 7.3.2).
        if (sentTime <= _recoveryStartTime)
        {
            return;
        }

        if (InSlowStart)
        {
            CongestionWindow += bytes;
            return;
        }

        _bytesAckedInAvoidance += bytes;
        if (_bytesAckedInAvoidance >= CongestionWindow)
        {
            _bytesAckedInAvoidance -= CongestionWindow;
            CongestionWindow += _maxDatagramSize;
        }
    }

    public void OnPacketsLost(long bytes, long largestLostSentTime, long now)
    {
        BytesInFlight = Math.Max(0, BytesInFlight - bytes);

        // One reduction per flight: losses of packets sent before recovery began are ignored.
        if (largestLostSentTime <= _recoveryStartTime)
        {
            return;
        }

        _recoveryStartTime = now;
        _slowStartThreshold = CongestionWindow / LossReductionDivisor;
        CongestionWindow = Math.Max(_slowStartThreshold, MinimumWindow);
        _bytesAckedInAvoidance = 0;
    }

    public void OnPersistentCongestion()
    {
        CongestionWindow = MinimumWindow;
        _recoveryStartTime = long.MinValue;
        _bytesAckedInAvoidance = 0;
    }

    public void OnPacketDiscarded(long bytes) => BytesInFlight = Math.Max(0, BytesInFlight - bytes);
}
