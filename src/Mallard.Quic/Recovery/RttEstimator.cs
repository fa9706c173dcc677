namespace Mallard.Quic.Recovery;

/// <summary>
/// Round-trip time estimation (RFC 9002 section 5): min_rtt, smoothed_rtt and rttvar from RTT
/// samples, with the peer's ACK delay subtracted only when it does not take the sample below
/// min_rtt. Times are in microseconds.
/// </summary>
internal sealed class RttEstimator
{
    /// <summary>kInitialRtt, 333 ms (RFC 9002 section 6.2.2).</summary>
    public const long InitialRtt = 333_000;

    /// <summary>kGranularity, 1 ms (RFC 9002 section 6.1.2).</summary>
    public const long Granularity = 1_000;

    public long LatestRtt { get; private set; }

    public long MinRtt { get; private set; }

    public long SmoothedRtt { get; private set; } = InitialRtt;

    public long RttVariation { get; private set; } = InitialRtt / 2;

    public bool HasSample { get; private set; }

    /// <summary>Forgets every sample: a new path starts from kInitialRtt (RFC 9000 section 9.4).</summary>
    public void Reset()
    {
        HasSample = false;
        LatestRtt = 0;
        MinRtt = 0;
        SmoothedRtt = InitialRtt;
        RttVariation = InitialRtt / 2;
    }

    /// <summary>Takes one RTT sample (RFC 9002 section 5.3).</summary>
    /// <param name="latestRtt">Now minus the send time of the largest newly acknowledged packet.</param>
    /// <param name="ackDelay">The peer's reported ACK delay, already scaled by its ack_delay_exponent.</param>
    /// <param name="maxAckDelay">The peer's max_ack_delay.</param>
    /// <param name="handshakeConfirmed">Before confirmation the ACK delay is not capped at max_ack_delay.</param>
    public void Update(long latestRtt, long ackDelay, long maxAckDelay, bool handshakeConfirmed)
    {
        LatestRtt = latestRtt;
        if (!HasSample)
        {
            HasSample = true;
            MinRtt = latestRtt;
            SmoothedRtt = latestRtt;
            RttVariation = latestRtt / 2;
            return;
        }

        MinRtt = Math.Min(MinRtt, latestRtt);
        if (handshakeConfirmed)
        {
            ackDelay = Math.Min(ackDelay, maxAckDelay);
        }

        long adjusted = latestRtt >= MinRtt + ackDelay ? latestRtt - ackDelay : latestRtt;
        RttVariation = ((3 * RttVariation) + Math.Abs(SmoothedRtt - adjusted)) / 4;
        SmoothedRtt = ((7 * SmoothedRtt) + adjusted) / 8;
    }

    /// <summary>The probe timeout (RFC 9002 section 6.2.1); <paramref name="maxAckDelay"/> is 0 for the Initial and Handshake spaces.</summary>
    public long ProbeTimeout(long maxAckDelay) => SmoothedRtt + Math.Max(4 * RttVariation, Granularity) + maxAckDelay;

    /// <summary>The time-threshold loss delay: 9/8 of the larger of smoothed and latest RTT, at least 1 ms (RFC 9002 section 6.1.2).</summary>
    public long LossDelay() => Math.Max(9 * Math.Max(SmoothedRtt, LatestRtt) / 8, Granularity);
}
