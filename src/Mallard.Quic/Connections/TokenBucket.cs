namespace Mallard.Quic.Connections;

/// <summary>
/// A token bucket on the core's clock (microseconds): <see cref="TryTake"/> succeeds at most
/// <c>burst</c> times at once and <c>perSecond</c> times a second on average. The endpoint uses
/// it to bound what it answers without a connection (Version Negotiation, stateless reset), so a
/// flood of such triggers costs a bounded amount of work and leaves the socket to the connections.
/// </summary>
internal sealed class TokenBucket
{
    private readonly double _perMicrosecond;
    private readonly double _burst;
    private double _tokens;
    private long _last = long.MinValue;

    public TokenBucket(double perSecond, double burst)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(perSecond);
        ArgumentOutOfRangeException.ThrowIfLessThan(burst, 1);
        _perMicrosecond = perSecond / 1_000_000;
        _burst = burst;
        _tokens = burst;
    }

    /// <summary>Takes one token if there is one at <paramref name="now"/>.</summary>
    public bool TryTake(long now)
    {
        if (_last != long.MinValue && now > _last)
        {
            _tokens = Math.Min(_burst, _tokens + ((now - _last) * _perMicrosecond));
        }

        _last = Math.Max(_last, now);
        if (_tokens < 1)
        {
            return false;
        }

        _tokens--;
        return true;
    }
}
