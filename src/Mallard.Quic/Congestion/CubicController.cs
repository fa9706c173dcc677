namespace Mallard.Quic.Congestion;

/// <summary>
/// CUBIC (RFC 9438), the default controller: after a congestion event the window follows
/// W_cubic(t) = C·(t−K)³ + W_max, concave up to the window where the loss happened and convex
/// beyond it, so it regains a long-fat path quickly and probes gently near the old limit; it never
/// grows slower than Reno would (the Reno-friendly estimate W_est, section 4.3). Windows are in
/// octets here and in segments of <see cref="CongestionController.MaxDatagramSize"/> in the RFC's
/// formulas; t is in seconds.
/// </summary>
internal sealed class CubicController(long maxDatagramSize = 1200) : CongestionController(maxDatagramSize)
{
    /// <summary>C, in segments per second cubed (section 5.1).</summary>
    public const double C = 0.4;

    /// <summary>β_cubic, the multiplicative decrease factor (section 4.6).</summary>
    public const double Beta = 0.7;

    /// <summary>α_cubic before W_est reaches cwnd_prior: 3(1−β)/(1+β) (section 4.3).</summary>
    public const double RenoFriendlyAlpha = 3 * (1 - Beta) / (1 + Beta);

    private double _windowMax; // W_max, octets
    private double _k;         // K, seconds
    private long _epochStart = long.MinValue; // t_epoch, µs; MinValue until congestion avoidance starts
    private double _renoEstimate; // W_est, octets
    private double _windowPrior;  // cwnd_prior, octets: the window when ssthresh was last set
    private double _growthRemainder; // fractions of an octet the window has earned but not yet taken

    /// <summary>W_max: the window at the last congestion event (after fast convergence), in octets.</summary>
    public double WindowMax => _windowMax;

    /// <summary>K: the seconds the cubic function takes to climb back to W_max.</summary>
    public double K => _k;

    /// <summary>W_cubic(t) in octets, <paramref name="seconds"/> after the epoch began (equation 1).</summary>
    public double CubicWindow(double seconds)
    {
        double offset = seconds - _k;
        return (C * offset * offset * offset * MaxDatagramSize) + _windowMax;
    }

    protected override void GrowInAvoidance(long bytes, long now, long smoothedRtt)
    {
        if (_epochStart == long.MinValue)
        {
            StartEpoch(now, CongestionWindow); // avoidance without an event before it (after HyStart++ or a reset)
        }

        double cwnd = CongestionWindow;
        double t = (now - _epochStart) / 1e6;

        // W_est grows like Reno with α_cubic; α is 1 once W_est has regained cwnd_prior (section 4.3).
        double alpha = _renoEstimate >= _windowPrior ? 1.0 : RenoFriendlyAlpha;
        _renoEstimate += alpha * bytes * MaxDatagramSize / cwnd;

        if (CubicWindow(t) < _renoEstimate)
        {
            CongestionWindow = Math.Max(CongestionWindow, (long)_renoEstimate); // Reno-friendly region
            return;
        }

        // Concave and convex regions: head for W_cubic one RTT ahead, at most 1.5 × cwnd (section 4.4, 4.5).
        double target = Math.Clamp(CubicWindow(t + (smoothedRtt / 1e6)), cwnd, 1.5 * cwnd);
        double growth = (target - cwnd) * bytes / cwnd;
        _growthRemainder += growth;
        long whole = (long)_growthRemainder;
        CongestionWindow += whole;
        _growthRemainder -= whole;
    }

    protected override void ReduceWindow(long now)
    {
        double cwnd = CongestionWindow;

        // Fast convergence: a flow whose window keeps falling short of its last W_max yields bandwidth (section 4.7).
        _windowMax = cwnd < _windowMax ? cwnd * (1 + Beta) / 2 : cwnd;
        _windowPrior = cwnd;
        SlowStartThreshold = Math.Max((long)(cwnd * Beta), MinimumWindow);
        CongestionWindow = SlowStartThreshold;
        StartEpoch(now, CongestionWindow);
    }

    protected override void OnSlowStartExit(long now) => StartEpoch(now, CongestionWindow);

    protected override void OnCollapse()
    {
        _epochStart = long.MinValue;
        _growthRemainder = 0;
    }

    /// <summary>A congestion avoidance stage begins with the window at <paramref name="cwnd"/> (equation 2 for K).</summary>
    private void StartEpoch(long now, long cwnd)
    {
        _epochStart = now;
        _renoEstimate = cwnd;
        _growthRemainder = 0;
        if (_windowMax < cwnd)
        {
            // No congestion event above this window yet: the plateau is here, K = 0 (section 4.2).
            _windowMax = cwnd;
            _windowPrior = cwnd;
        }

        _k = Math.Cbrt((_windowMax - cwnd) / (C * MaxDatagramSize));
    }
}
