namespace Mallard.Quic.Congestion;

/// <summary>
/// A congestion controller (RFC 9002 section 7), the seam through which faster controllers come
/// later. Counts bytes in flight of ack-eliciting and in-flight packets; times in microseconds.
/// </summary>
internal interface ICongestionController
{
    /// <summary>The congestion window in bytes.</summary>
    long CongestionWindow { get; }

    /// <summary>Bytes sent and neither acknowledged nor declared lost.</summary>
    long BytesInFlight { get; }

    /// <summary>Whether <paramref name="bytes"/> more may be sent now.</summary>
    bool CanSend(long bytes);

    void OnPacketSent(long bytes);

    void OnPacketAcked(long bytes, long sentTime);

    void OnPacketsLost(long bytes, long largestLostSentTime, long now);

    /// <summary>Persistent congestion: collapse to the minimum window (RFC 9002 section 7.6.2).</summary>
    void OnPersistentCongestion();

    /// <summary>Forgets bytes of a discarded packet number space without reacting (RFC 9002 section 6.4).</summary>
    void OnPacketDiscarded(long bytes);

    /// <summary>Back to the initial window for a new path (RFC 9000 section 9.4); bytes in flight stay counted.</summary>
    void ResetForNewPath();
}
