using Mallard.Quic.Congestion;

namespace Mallard.Quic.Recovery;

/// <summary>
/// Loss detection for one packet number space (RFC 9002 section 6): acknowledges packets from ACK
/// ranges, takes RTT samples, declares packets lost by packet threshold (3) or time threshold
/// (9/8 RTT), keeps the loss timer, and tells the congestion controller. Sans-IO; times in
/// microseconds.
/// </summary>
internal sealed class LossDetector
{
    /// <summary>kPacketThreshold (RFC 9002 section 6.1.1).</summary>
    public const int PacketThreshold = 3;

    /// <summary>kPersistentCongestionThreshold (RFC 9002 section 7.6.1).</summary>
    public const int PersistentCongestionThreshold = 3;

    /// <summary>
    /// ACK-only packets remembered at most (RFC 9000 section 13.2.4 lets a sender forget them):
    /// they are never retransmitted or counted in flight, and are kept only so that an ACK of the
    /// newest of them still yields an RTT sample, so a peer that never acknowledges cannot make
    /// them pile up.
    /// </summary>
    public const int MaxAckOnlyRemembered = 64;

    private readonly SentPacketPool _pool;

    // Ack-eliciting (in-flight) packets, and the ACK-only ones apart, each in packet number order.
    private readonly List<SentPacket> _sent = [];
    private readonly List<SentPacket> _ackOnly = [];
    private int _ackElicitingInFlight;

    // Results handed out by OnAckReceived and DetectLost, reused by the next call so that an ACK
    // allocates nothing; callers read them at once.
    private readonly List<SentPacket> _acknowledged = [];
    private readonly List<SentPacket> _lost = [];

    /// <param name="pool">Where packets go once acknowledged, lost or forgotten (<see cref="ReleaseResults"/>); a pool of its own when null.</param>
    public LossDetector(SentPacketPool? pool = null) => _pool = pool ?? new SentPacketPool();

    /// <summary>The largest packet number the peer acknowledged in this space.</summary>
    public ulong? LargestAcknowledged { get; private set; }

    /// <summary>When the earliest packet not yet lost will be, by the time threshold; null when none is pending.</summary>
    public long? LossTime { get; private set; }

    /// <summary>When the last ack-eliciting packet was sent (for the PTO timer).</summary>
    public long? TimeOfLastAckEliciting { get; private set; }

    /// <summary>Ack-eliciting packets not yet acknowledged or lost.</summary>
    public int AckElicitingInFlight => _ackElicitingInFlight;

    /// <summary>Ack-eliciting or in-flight packets neither acknowledged nor declared lost, oldest first.</summary>
    public IReadOnlyList<SentPacket> Unacknowledged => _sent;

    /// <summary>Every packet remembered, ACK-only ones included.</summary>
    public int Remembered => _sent.Count + _ackOnly.Count;

    public void OnPacketSent(SentPacket packet, CongestionController congestion)
    {
        if (!packet.AckEliciting && !packet.InFlight)
        {
            if (_ackOnly.Count == MaxAckOnlyRemembered)
            {
                _pool.Return(_ackOnly[0]);
                _ackOnly.RemoveAt(0);
            }

            _ackOnly.Add(packet);
            return;
        }

        _sent.Add(packet);
        if (packet.AckEliciting)
        {
            _ackElicitingInFlight++;
        }

        if (packet.InFlight)
        {
            congestion.OnPacketSent(packet.Size);
        }

        if (packet.AckEliciting)
        {
            TimeOfLastAckEliciting = packet.TimeSent;
        }
    }

    /// <summary>Processes an ACK frame's ranges (largest first, as (smallest, largest)).</summary>
    public AckOutcome OnAckReceived(
        ReadOnlySpan<(ulong Smallest, ulong Largest)> ranges,
        long ackDelay,
        long now,
        RttEstimator rtt,
        long maxAckDelay,
        bool handshakeConfirmed,
        CongestionController congestion)
    {
        List<SentPacket> acknowledged = _acknowledged;
        acknowledged.Clear();
        TakeAcknowledged(_sent, ranges, acknowledged);
        TakeAcknowledged(_ackOnly, ranges, acknowledged);
        bool anyAckEliciting = false;
        SentPacket? largestNewly = null;
        foreach (SentPacket packet in acknowledged)
        {
            if (packet.AckEliciting)
            {
                _ackElicitingInFlight--;
                anyAckEliciting = true;
            }

            if (largestNewly is null || packet.Number > largestNewly.Number)
            {
                largestNewly = packet;
            }
        }

        if (ranges.Length > 0)
        {
            LargestAcknowledged = LargestAcknowledged is ulong known ? Math.Max(known, ranges[0].Largest) : ranges[0].Largest;
        }

        if (largestNewly is null)
        {
            _lost.Clear();
            return new AckOutcome(acknowledged, _lost, false);
        }

        // An RTT sample when the largest acknowledged is newly acknowledged and something
        // ack-eliciting was acknowledged (RFC 9002 section 5.1).
        if (largestNewly.Number == ranges[0].Largest && anyAckEliciting)
        {
            rtt.Update(now - largestNewly.TimeSent, ackDelay, maxAckDelay, handshakeConfirmed);
            congestion.OnRttSample(rtt.LatestRtt, largestNewly.TimeSent, now);
        }

        foreach (SentPacket packet in acknowledged)
        {
            if (packet.InFlight)
            {
                congestion.OnPacketAcked(packet.Size, packet.TimeSent, now, rtt.SmoothedRtt);
            }
        }

        List<SentPacket> lost = DetectLost(now, rtt);
        bool persistent = false;
        if (lost.Count > 0)
        {
            congestion.OnPacketsLost(BytesInFlightOf(lost), LatestSendTimeOf(lost), now);
            persistent = IsPersistentCongestion(lost, acknowledged, rtt, maxAckDelay);
            if (persistent)
            {
                congestion.OnPersistentCongestion();
            }
        }

        return new AckOutcome(acknowledged, lost, persistent);
    }

    /// <summary>Octets of the in-flight packets among <paramref name="packets"/>.</summary>
    public static long BytesInFlightOf(List<SentPacket> packets)
    {
        long bytes = 0;
        foreach (SentPacket packet in packets)
        {
            bytes += packet.InFlight ? packet.Size : 0;
        }

        return bytes;
    }

    /// <summary>
    /// When the last of <paramref name="packets"/> that signals congestion was sent; long.MinValue
    /// when none does (only path MTU probes were lost, RFC 9000 section 14.4).
    /// </summary>
    public static long LatestSendTimeOf(List<SentPacket> packets)
    {
        long latest = long.MinValue;
        foreach (SentPacket packet in packets)
        {
            latest = packet.MtuProbe ? latest : Math.Max(latest, packet.TimeSent);
        }

        return latest;
    }

    /// <summary>
    /// Declares lost what is over either threshold and sets <see cref="LossTime"/> for the rest
    /// (RFC 9002 appendix A.10). The list returned is reused by the next call: read it at once.
    /// </summary>
    public List<SentPacket> DetectLost(long now, RttEstimator rtt)
    {
        LossTime = null;
        List<SentPacket> lost = _lost;
        lost.Clear();
        if (LargestAcknowledged is not ulong largest)
        {
            return lost;
        }

        long lossDelay = rtt.LossDelay();
        long lostSendTime = now - lossDelay;
        int kept = 0;
        for (int i = 0; i < _sent.Count; i++)
        {
            SentPacket packet = _sent[i];
            if (packet.Number <= largest && (packet.TimeSent <= lostSendTime || largest >= packet.Number + PacketThreshold))
            {
                lost.Add(packet);
                if (packet.AckEliciting)
                {
                    _ackElicitingInFlight--;
                }

                continue;
            }

            if (packet.Number <= largest)
            {
                long when = packet.TimeSent + lossDelay;
                LossTime = LossTime is long earlier ? Math.Min(earlier, when) : when;
            }

            _sent[kept++] = packet;
        }

        _sent.RemoveRange(kept, _sent.Count - kept);

        // ACK-only packets below the largest acknowledged will never yield an RTT sample.
        int stale = 0;
        while (stale < _ackOnly.Count && _ackOnly[stale].Number < largest)
        {
            _pool.Return(_ackOnly[stale]);
            stale++;
        }

        _ackOnly.RemoveRange(0, stale);
        return lost;
    }

    /// <summary>
    /// The caller has finished with the packets the last <see cref="OnAckReceived"/> or
    /// <see cref="DetectLost"/> handed out: they go back to the pool to describe later packets.
    /// </summary>
    public void ReleaseResults()
    {
        foreach (SentPacket packet in _acknowledged)
        {
            _pool.Return(packet);
        }

        foreach (SentPacket packet in _lost)
        {
            _pool.Return(packet);
        }

        _acknowledged.Clear();
        _lost.Clear();
    }

    /// <summary>Forgets every packet (the space's keys were discarded, RFC 9002 section 6.4).</summary>
    public void Discard(CongestionController congestion)
    {
        foreach (SentPacket packet in _sent)
        {
            if (packet.InFlight)
            {
                congestion.OnPacketDiscarded(packet.Size);
            }

            _pool.Return(packet);
        }

        foreach (SentPacket packet in _ackOnly)
        {
            _pool.Return(packet);
        }

        ReleaseResults();
        _sent.Clear();
        _ackOnly.Clear();
        _ackElicitingInFlight = 0;
        LossTime = null;
        TimeOfLastAckEliciting = null;
    }

    /// <summary>
    /// Moves the packets of <paramref name="packets"/> that <paramref name="ranges"/> (largest
    /// first, disjoint, as an ACK frame carries them) cover into <paramref name="acknowledged"/>:
    /// one backward walk over both, so an ACK costs its ranges plus the packets, never their product.
    /// </summary>
    private static void TakeAcknowledged(List<SentPacket> packets, ReadOnlySpan<(ulong Smallest, ulong Largest)> ranges, List<SentPacket> acknowledged)
    {
        int i = packets.Count - 1;
        int first = acknowledged.Count;
        foreach ((ulong smallest, ulong largest) in ranges)
        {
            while (i >= 0 && packets[i].Number > largest)
            {
                i--;
            }

            while (i >= 0 && packets[i].Number >= smallest)
            {
                acknowledged.Add(packets[i]);
                packets[i] = null!;
                i--;
            }

            if (i < 0)
            {
                break;
            }
        }

        if (acknowledged.Count > first)
        {
            packets.RemoveAll(p => p is null);
        }
    }

    // Two ack-eliciting losses further apart than the persistent congestion duration, with
    // nothing sent between them acknowledged, after an RTT sample (RFC 9002 section 7.6.2).
    private static bool IsPersistentCongestion(List<SentPacket> lost, List<SentPacket> acknowledged, RttEstimator rtt, long maxAckDelay)
    {
        if (!rtt.HasSample)
        {
            return false;
        }

        SentPacket[] eliciting = [.. lost.Where(p => p.AckEliciting && !p.MtuProbe).OrderBy(p => p.TimeSent)];
        if (eliciting.Length < 2)
        {
            return false;
        }

        long duration = (rtt.SmoothedRtt + Math.Max(4 * rtt.RttVariation, RttEstimator.Granularity) + maxAckDelay) * PersistentCongestionThreshold;
        long first = eliciting[0].TimeSent;
        long last = eliciting[^1].TimeSent;
        return last - first > duration && !acknowledged.Exists(p => p.TimeSent > first && p.TimeSent < last);
    }
}
