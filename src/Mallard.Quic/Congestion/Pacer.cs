namespace Mallard.Quic.Congestion;

/// <summary>
/// Spreads in-flight packets over the round trip instead of sending a window in one burst
/// (RFC 9002 section 7.7): a token bucket filled at N × cwnd / smoothed_rtt with N = 1.25, holding
/// at most one timer tick's worth (the host's timers fire at millisecond granularity) and never
/// less than ten datagrams. Bursts into a path's queue are what delay everything behind them, a
/// real-time datagram included. ACK-only packets are not paced. Octets and microseconds.
/// </summary>
internal sealed class Pacer
{
    /// <summary>N = 5/4: a little faster than the window per RTT, so pacing never limits the window.</summary>
    private const int RateNumerator = 5;

    private const int RateDenominator = 4;

    /// <summary>How far ahead the bucket may fill: the host's timer granularity, 1 ms.</summary>
    public const long Tick = 1_000;

    /// <summary>The smallest burst the bucket holds, in datagrams.</summary>
    public const int MinimumBurstDatagrams = 10;

    private long _tokens;
    private long _lastRefill = long.MinValue;

    /// <summary>
    /// What the rate earned beyond whole octets, in octets × 4 × RTT: a sender that asks every few
    /// microseconds must not lose the fraction each time, or it would never earn an octet.
    /// </summary>
    private long _credit;

    public Pacer(long initialWindow) => _tokens = initialWindow;

    /// <summary>Octets that may be sent now without waiting.</summary>
    public long Tokens => _tokens;

    /// <summary>
    /// Adds what the rate earned since the last call. Returns 0 when <paramref name="bytes"/> may
    /// go now, or how many microseconds until they may.
    /// </summary>
    public long Delay(long now, long bytes, long congestionWindow, long smoothedRtt, long maxDatagramSize)
    {
        long rtt = Math.Max(smoothedRtt, 1);
        long capacity = Math.Max(MinimumBurstDatagrams * maxDatagramSize, congestionWindow * RateNumerator * Tick / (rtt * RateDenominator));
        if (_lastRefill != long.MinValue && now > _lastRefill)
        {
            // Elapsed time is capped so the product stays in range; the bucket is full by then anyway.
            long elapsed = Math.Min(now - _lastRefill, rtt + Tick);
            long divisor = rtt * RateDenominator;
            _credit += congestionWindow * RateNumerator * elapsed;
            long earned = _credit / divisor;
            _credit -= earned * divisor;
            _tokens += earned;
        }

        if (_tokens >= capacity)
        {
            _tokens = capacity;
            _credit = 0;
        }

        _lastRefill = Math.Max(_lastRefill, now);
        if (_tokens >= bytes)
        {
            return 0;
        }

        long missing = bytes - _tokens;
        long rateNumerator = congestionWindow * RateNumerator;
        return Math.Max(1, ((missing * rtt * RateDenominator) + rateNumerator - 1) / rateNumerator);
    }

    /// <summary>An in-flight packet of <paramref name="bytes"/> went out.</summary>
    public void OnPacketSent(long bytes) => _tokens = Math.Max(0, _tokens - bytes);

    /// <summary>A new path starts with a full initial burst.</summary>
    public void Reset(long initialWindow)
    {
        _tokens = initialWindow;
        _credit = 0;
        _lastRefill = long.MinValue;
    }
}
