using Mallard.Quic.Congestion;

namespace Mallard.Quic.Tests.Congestion;

/// <summary>CUBIC against RFC 9438's formulas, in virtual time (microseconds).</summary>
public class CubicControllerTests
{
    private const long Mss = 1200;

    [Fact]
    public void ACongestionEventCutsTheWindowByBetaAndSetsKFromEquationTwo()
    {
        CubicController cc = GrownTo(100 * Mss);

        cc.OnPacketsLost(Mss, largestLostSentTime: 1_000, now: 2_000);

        // cwnd × β_cubic = 70 segments; W_max = 100 segments; K = ∛((100 − 70) / 0.4) seconds.
        Assert.Equal(70 * Mss, cc.CongestionWindow);
        Assert.Equal(70 * Mss, cc.SlowStartThreshold);
        Assert.Equal(100.0 * Mss, cc.WindowMax, 6);
        Assert.Equal(Math.Cbrt(30 / 0.4), cc.K, 9);
        Assert.Equal(100.0 * Mss, cc.CubicWindow(cc.K), 6);
    }

    [Fact]
    public void FastConvergenceLowersWMaxWhenTheWindowFellShortOfTheLastOne()
    {
        CubicController cc = GrownTo(100 * Mss);
        cc.OnPacketsLost(Mss, largestLostSentTime: 1_000, now: 2_000); // W_max 100, cwnd 70

        cc.OnPacketsLost(Mss, largestLostSentTime: 3_000, now: 4_000); // cwnd 70 < W_max 100

        Assert.Equal(70.0 * 1.7 / 2 * Mss, cc.WindowMax, 6);
        Assert.Equal((long)(70 * Mss * 0.7), cc.CongestionWindow);
    }

    [Fact]
    public void TheWindowFollowsTheCubicCurveBackToWMaxAndBeyond()
    {
        // 1,000 segments over 100 ms: a long fat path, where the cubic term outgrows Reno's all the way.
        CubicController cc = GrownTo(1000 * Mss);
        cc.OnPacketsLost(Mss, largestLostSentTime: 1_000, now: 1_000_000);
        const long rtt = 100_000;
        double k = cc.K;

        // Acknowledge a full window every RTT for 2K seconds.
        long now = 1_000_000;
        long sentTime = now;
        double seconds = 0;
        while (seconds < 2 * k)
        {
            now += rtt;
            seconds = (now - 1_000_000) / 1e6;
            AcknowledgeWindow(cc, sentTime: now - rtt + 1, now, rtt);
            sentTime = now;

            // Each RTT the window closes most of the way to W_cubic(t + RTT) and never passes it.
            Assert.InRange(cc.CongestionWindow, (long)(cc.CubicWindow(seconds) - (8 * Mss)), (long)(cc.CubicWindow(seconds + (rtt / 1e6)) + Mss));
        }

        // At 2K it is as far above W_max as it started below (the curve is odd about K): 1,300 segments.
        Assert.InRange(cc.CongestionWindow, 1250 * Mss, 1400 * Mss);
    }

    [Fact]
    public void OnAShortPathTheRenoFriendlyEstimateLeadsAndGrowsLikeReno()
    {
        CubicController cc = GrownTo(100 * Mss);
        cc.OnPacketsLost(Mss, largestLostSentTime: 1_000, now: 1_000_000);
        const long rtt = 1_000; // 1 ms: W_cubic barely moves in a few RTTs

        long now = 1_000_000;
        for (int round = 0; round < 10; round++)
        {
            now += rtt;
            AcknowledgeWindow(cc, sentTime: now - rtt + 1, now, rtt);
        }

        // W_est gains α_cubic = 3(1 − β)/(1 + β) ≈ 0.53 segments per window acknowledged.
        double expected = (70 + (10 * CubicController.RenoFriendlyAlpha)) * Mss;
        Assert.InRange(cc.CongestionWindow, (long)(expected - Mss), (long)(expected + Mss));
    }

    [Fact]
    public void AcknowledgementsOfPacketsSentBeforeRecoveryDoNotGrowTheWindow()
    {
        CubicController cc = GrownTo(100 * Mss);
        cc.OnPacketsLost(Mss, largestLostSentTime: 1_000, now: 2_000);
        long window = cc.CongestionWindow;

        cc.OnPacketSent(Mss);
        cc.OnPacketAcked(Mss, sentTime: 1_500, now: 5_000_000, smoothedRtt: 10_000);

        Assert.Equal(window, cc.CongestionWindow);
    }

    [Fact]
    public void AnApplicationLimitedSenderDoesNotGrowItsWindow()
    {
        var cc = new CubicController(Mss);
        cc.ApplicationLimited = true;
        cc.OnPacketSent(Mss);
        cc.OnPacketAcked(Mss, sentTime: 10, now: 1_000, smoothedRtt: 1_000);

        Assert.Equal(CongestionController.InitialWindow(Mss), cc.CongestionWindow);
    }

    /// <summary>Slow start up to <paramref name="window"/>, with one RTT sample so HyStart++ has a baseline.</summary>
    private static CubicController GrownTo(long window)
    {
        var cc = new CubicController(Mss);
        while (cc.CongestionWindow < window)
        {
            cc.OnPacketSent(Mss);
            cc.OnPacketAcked(Math.Min(Mss, window - cc.CongestionWindow), sentTime: 10, now: 20, smoothedRtt: 10);
        }

        Assert.Equal(window, cc.CongestionWindow);
        return cc;
    }

    private static void AcknowledgeWindow(CubicController cc, long sentTime, long now, long rtt)
    {
        long window = cc.CongestionWindow;
        for (long acked = 0; acked < window; acked += Mss)
        {
            cc.OnPacketSent(Mss);
            cc.OnPacketAcked(Mss, sentTime, now, rtt);
        }
    }
}
