namespace Mallard.Quic.Congestion;

/// <summary>
/// HyStart++ (RFC 9406): leaves slow start when the round-trip time of a round rises by a
/// threshold over the previous round's, before the queue it builds overflows. It first grows a
/// quarter as fast (Conservative Slow Start) for up to CSS_ROUNDS rounds, returning to slow start
/// if the delay was a spike. Rounds are counted by send time: a round ends when a packet sent after
/// it began is acknowledged (the RFC's windowEnd). Pacing is on, so there is no per-ACK cap (L).
/// Times in microseconds.
/// </summary>
internal sealed class HyStartPlusPlus
{
    /// <summary>MIN_RTT_THRESH and MAX_RTT_THRESH: 4 and 16 ms (section 4.3).</summary>
    public const long MinRttThreshold = 4_000;

    public const long MaxRttThreshold = 16_000;

    /// <summary>MIN_RTT_DIVISOR.</summary>
    public const int MinRttDivisor = 8;

    /// <summary>N_RTT_SAMPLE: samples a round needs before its delay is judged.</summary>
    public const int RttSamplesPerRound = 8;

    /// <summary>CSS_GROWTH_DIVISOR.</summary>
    public const int CssGrowthDivisor = 4;

    /// <summary>CSS_ROUNDS.</summary>
    public const int CssRounds = 5;

    private long _roundStart = long.MinValue;
    private long _lastRoundMinRtt = long.MaxValue;
    private long _currentRoundMinRtt = long.MaxValue;
    private int _samplesThisRound;
    private long _cssBaselineMinRtt = long.MaxValue;
    private int _cssRoundsDone;
    private bool _stopped;

    /// <summary>Growing at a quarter of slow start's rate.</summary>
    public bool InConservativeSlowStart => _cssBaselineMinRtt != long.MaxValue;

    /// <summary>Takes an ACK's RTT sample during slow start; true when slow start should end now.</summary>
    public bool OnRttSample(long latestRtt, long largestAckedSentTime, long now)
    {
        if (_stopped)
        {
            return false;
        }

        if (largestAckedSentTime >= _roundStart)
        {
            // The round ended; what is sent from now on belongs to the next one.
            _roundStart = now;
            _lastRoundMinRtt = _currentRoundMinRtt;
            _currentRoundMinRtt = long.MaxValue;
            _samplesThisRound = 0;
            if (InConservativeSlowStart && ++_cssRoundsDone >= CssRounds)
            {
                _stopped = true;
                _cssBaselineMinRtt = long.MaxValue;
                return true;
            }
        }

        _currentRoundMinRtt = Math.Min(_currentRoundMinRtt, latestRtt);
        _samplesThisRound++;
        if (InConservativeSlowStart)
        {
            if (_currentRoundMinRtt < _cssBaselineMinRtt)
            {
                // The rise was a spike: back to slow start (section 4.2).
                _cssBaselineMinRtt = long.MaxValue;
                _cssRoundsDone = 0;
            }

            return false;
        }

        if (_samplesThisRound >= RttSamplesPerRound && _currentRoundMinRtt != long.MaxValue && _lastRoundMinRtt != long.MaxValue)
        {
            long threshold = Math.Clamp(_lastRoundMinRtt / MinRttDivisor, MinRttThreshold, MaxRttThreshold);
            if (_currentRoundMinRtt >= _lastRoundMinRtt + threshold)
            {
                _cssBaselineMinRtt = _currentRoundMinRtt;
                _cssRoundsDone = 0;
            }
        }

        return false;
    }

    /// <summary>A loss ended slow start; HyStart++ has no more to say on this path.</summary>
    public void Stop()
    {
        _stopped = true;
        _cssBaselineMinRtt = long.MaxValue;
    }

    /// <summary>A new path, or persistent congestion: slow start begins again from nothing.</summary>
    public void Reset()
    {
        _roundStart = long.MinValue;
        _lastRoundMinRtt = long.MaxValue;
        _currentRoundMinRtt = long.MaxValue;
        _samplesThisRound = 0;
        _cssBaselineMinRtt = long.MaxValue;
        _cssRoundsDone = 0;
        _stopped = false;
    }
}
