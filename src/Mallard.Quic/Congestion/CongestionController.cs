namespace Mallard.Quic.Congestion;

/// <summary>
/// What every congestion controller shares (RFC 9002 section 7): bytes in flight, the initial and
/// minimum windows, one reduction per recovery period (section 7.3.2), no growth while the window
/// is not used (section 7.8), and slow start with HyStart++ (RFC 9406). Subclasses decide how the
/// window grows in congestion avoidance and how far it falls on a congestion event. Sizes in
/// octets; times in microseconds on the connection's clock.
/// </summary>
internal abstract class CongestionController
{
    private readonly HyStartPlusPlus _hyStart = new();

    protected CongestionController(long maxDatagramSize)
    {
        MaxDatagramSize = maxDatagramSize;
        CongestionWindow = InitialWindow(maxDatagramSize);
    }

    /// <summary>The datagram size the window is counted in (max_datagram_size of RFC 9002): the path's, as path MTU discovery finds it.</summary>
    public long MaxDatagramSize { get; set; }

    /// <summary>The congestion window in octets.</summary>
    public long CongestionWindow { get; protected set; }

    /// <summary>ssthresh: slow start runs while the window is below it.</summary>
    public long SlowStartThreshold { get; protected set; } = long.MaxValue;

    /// <summary>Octets of in-flight packets neither acknowledged nor declared lost.</summary>
    public long BytesInFlight { get; private set; }

    public bool InSlowStart => CongestionWindow < SlowStartThreshold;

    /// <summary>Whether HyStart++ has slowed slow start down (RFC 9406 section 4.2, Conservative Slow Start).</summary>
    public bool InConservativeSlowStart => InSlowStart && _hyStart.InConservativeSlowStart;

    /// <summary>kMinimumWindow: two datagrams (RFC 9002 section 7.2).</summary>
    public long MinimumWindow => 2 * MaxDatagramSize;

    /// <summary>
    /// Set by the sender each time it runs out of things to send: true when it stopped with room
    /// left in the window and not for pacing. The window does not grow while it is not used
    /// (RFC 9002 section 7.8), or a sender of small messages would earn a window it never tested.
    /// </summary>
    public bool ApplicationLimited { get; set; }

    /// <summary>When the current recovery period began; packets sent before it neither grow nor shrink the window again.</summary>
    protected long RecoveryStartTime { get; private set; } = long.MinValue;

    /// <summary>kInitialWindow: ten datagrams, bounded by 14,720 octets or two datagrams (RFC 9002 section 7.2).</summary>
    public static long InitialWindow(long maxDatagramSize) => Math.Min(10 * maxDatagramSize, Math.Max(14_720, 2 * maxDatagramSize));

    public bool CanSend(long bytes) => BytesInFlight + bytes <= CongestionWindow;

    public void OnPacketSent(long bytes) => BytesInFlight += bytes;

    /// <summary>An ACK frame gave an RTT sample; <paramref name="largestAckedSentTime"/> is when its largest newly acknowledged packet was sent.</summary>
    public void OnRttSample(long latestRtt, long largestAckedSentTime, long now)
    {
        if (InSlowStart && _hyStart.OnRttSample(latestRtt, largestAckedSentTime, now))
        {
            // HyStart++ found the path's queue filling and stayed conservative for CSS_ROUNDS rounds.
            SlowStartThreshold = CongestionWindow;
            OnSlowStartExit(now);
        }
    }

    /// <param name="bytes">The acknowledged packet's size.</param>
    /// <param name="sentTime">When it was sent.</param>
    /// <param name="now">When the acknowledgement arrived.</param>
    /// <param name="smoothedRtt">smoothed_rtt after this ACK's sample.</param>
    public void OnPacketAcked(long bytes, long sentTime, long now, long smoothedRtt)
    {
        BytesInFlight = Math.Max(0, BytesInFlight - bytes);

        // Packets sent before the recovery period began do not grow the window (section 7.3.2).
        if (sentTime <= RecoveryStartTime || ApplicationLimited)
        {
            return;
        }

        if (InSlowStart)
        {
            CongestionWindow += _hyStart.InConservativeSlowStart ? bytes / HyStartPlusPlus.CssGrowthDivisor : bytes;
            return;
        }

        GrowInAvoidance(bytes, now, smoothedRtt);
    }

    /// <summary>Packets were declared lost: a congestion event unless they were sent before the current recovery period.</summary>
    public void OnPacketsLost(long bytes, long largestLostSentTime, long now)
    {
        BytesInFlight = Math.Max(0, BytesInFlight - bytes);
        if (largestLostSentTime <= RecoveryStartTime)
        {
            return;
        }

        RecoveryStartTime = now;
        _hyStart.Stop(); // a loss ends slow start and CSS alike (RFC 9406 section 4.2)
        ReduceWindow(now);
    }

    /// <summary>Persistent congestion: collapse to the minimum window (RFC 9002 section 7.6.2).</summary>
    public void OnPersistentCongestion()
    {
        CongestionWindow = MinimumWindow;
        RecoveryStartTime = long.MinValue;
        OnCollapse();
    }

    /// <summary>Forgets octets of a discarded packet number space without reacting (RFC 9002 section 6.4).</summary>
    public void OnPacketDiscarded(long bytes) => BytesInFlight = Math.Max(0, BytesInFlight - bytes);

    /// <summary>Back to the initial window for a new path (RFC 9000 section 9.4); octets in flight stay counted.</summary>
    public void ResetForNewPath()
    {
        CongestionWindow = InitialWindow(MaxDatagramSize);
        SlowStartThreshold = long.MaxValue;
        RecoveryStartTime = long.MinValue;
        _hyStart.Reset();
        OnCollapse();
    }

    /// <summary>Grows the window in congestion avoidance for <paramref name="bytes"/> newly acknowledged.</summary>
    protected abstract void GrowInAvoidance(long bytes, long now, long smoothedRtt);

    /// <summary>A congestion event: sets <see cref="SlowStartThreshold"/> and <see cref="CongestionWindow"/>.</summary>
    protected abstract void ReduceWindow(long now);

    /// <summary>Slow start ended without a loss (HyStart++); congestion avoidance starts at the current window.</summary>
    protected virtual void OnSlowStartExit(long now)
    {
    }

    /// <summary>The window fell to the minimum or the initial window: forget avoidance state.</summary>
    protected virtual void OnCollapse()
    {
    }
}
