using Mallard.Quic.Congestion;
using Mallard.Quic.Recovery;

namespace Mallard.Quic.Tests.Recovery;

public class LossDetectorTests
{
    private const long Ms = 1_000;

    [Fact]
    public void AnAckAcknowledgesTakesAnRttSampleAndFreesTheWindow()
    {
        var (detector, rtt, cc) = Start(5);

        AckOutcome outcome = detector.OnAckReceived([(0, 4)], ackDelay: 0, now: 150 * Ms, rtt, 25 * Ms, true, cc);

        Assert.Equal(5, outcome.Acknowledged.Count);
        Assert.Empty(outcome.Lost);
        Assert.Equal(146 * Ms, rtt.LatestRtt); // packet 4 was sent at 4 ms
        Assert.Equal(0, cc.BytesInFlight);
        Assert.Equal(4UL, detector.LargestAcknowledged);
    }

    [Fact]
    public void APacketThreeBelowTheLargestAcknowledgedIsLost()
    {
        var (detector, rtt, cc) = Start(6);

        AckOutcome outcome = detector.OnAckReceived([(3, 5), (0, 1)], 0, 100 * Ms, rtt, 25 * Ms, true, cc);

        // 2 is three below 5: lost by packet threshold.
        Assert.Equal([2UL], outcome.Lost.Select(p => p.Number));
        Assert.True(cc.CongestionWindow < NewRenoController.InitialWindow(1200));
    }

    [Fact]
    public void APacketLessThanThreeBelowIsLostByTimeThresholdLater()
    {
        var (detector, rtt, cc) = Start(4);

        AckOutcome first = detector.OnAckReceived([(3, 3), (0, 1)], 0, 100 * Ms, rtt, 25 * Ms, true, cc);
        Assert.Empty(first.Lost);
        Assert.NotNull(detector.LossTime);

        // Once 9/8 of the RTT has passed since packet 2 was sent, it is lost.
        List<SentPacket> lost = detector.DetectLost(detector.LossTime!.Value, rtt);
        Assert.Equal([2UL], lost.Select(p => p.Number));
        Assert.Null(detector.LossTime);
    }

    [Fact]
    public void LossesSpanningThePersistentCongestionDurationCollapseTheWindow()
    {
        var rtt = new RttEstimator();
        var cc = new NewRenoController();
        var detector = new LossDetector();
        detector.OnPacketSent(new SentPacket(0, 0, 1200, true, true), cc);
        detector.OnAckReceived([(0, 0)], 0, 10 * Ms, rtt, 0, true, cc); // RTT 10 ms
        for (ulong pn = 1; pn <= 5; pn++)
        {
            detector.OnPacketSent(new SentPacket(pn, (long)pn * 100 * Ms, 1200, true, true), cc);
        }

        detector.OnPacketSent(new SentPacket(6, 600 * Ms, 1200, true, true), cc);
        AckOutcome outcome = detector.OnAckReceived([(6, 6)], 0, 610 * Ms, rtt, 0, true, cc);

        Assert.Equal([1UL, 2UL, 3UL, 4UL, 5UL], outcome.Lost.Select(p => p.Number).Order());
        Assert.True(outcome.PersistentCongestion);
        Assert.Equal(2_400, cc.CongestionWindow);
    }

    [Fact]
    public void DiscardingASpaceForgetsItsBytesInFlight()
    {
        var (detector, _, cc) = Start(3);

        detector.Discard(cc);

        Assert.Equal(0, cc.BytesInFlight);
        Assert.Equal(0, detector.AckElicitingInFlight);
    }

    private static (LossDetector Detector, RttEstimator Rtt, NewRenoController Cc) Start(int packets)
    {
        var detector = new LossDetector();
        var cc = new NewRenoController();
        for (int pn = 0; pn < packets; pn++)
        {
            detector.OnPacketSent(new SentPacket((ulong)pn, pn * Ms, 1200, true, true), cc);
        }

        return (detector, new RttEstimator(), cc);
    }
}
