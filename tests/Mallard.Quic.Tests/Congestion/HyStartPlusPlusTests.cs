using Mallard.Quic.Congestion;

namespace Mallard.Quic.Tests.Congestion;

/// <summary>HyStart++ (RFC 9406) driven through a controller in virtual time (microseconds).</summary>
public class HyStartPlusPlusTests
{
    private const long Mss = 1200;

    [Fact]
    public void SlowStartContinuesWhileTheRoundTripTimeStaysFlat()
    {
        var cc = new CubicController(Mss);
        long now = 0;
        for (int round = 0; round < 6; round++)
        {
            now = Round(cc, now, rtt: 10_000);
        }

        Assert.True(cc.InSlowStart);
        Assert.False(cc.InConservativeSlowStart);
        Assert.Equal(CongestionController.InitialWindow(Mss) << 6, cc.CongestionWindow);
    }

    [Fact]
    public void ARiseOfTheThresholdEntersConservativeSlowStartThenLeavesSlowStartAfterFiveRounds()
    {
        var cc = new CubicController(Mss);
        long now = Round(cc, 0, rtt: 10_000);
        now = Round(cc, now, rtt: 10_000);

        // RttThresh = clamp(10 ms / 8, 4 ms, 16 ms) = 4 ms: a round at 14 ms is a rise.
        now = Round(cc, now, rtt: 14_000);
        Assert.True(cc.InConservativeSlowStart);

        // In CSS the window grows by a quarter of what is acknowledged.
        long before = cc.CongestionWindow;
        now = Round(cc, now, rtt: 14_000);
        Assert.InRange(cc.CongestionWindow, before + (before / 4) - Mss, before + (before / 4) + Mss);

        for (int i = 0; i < 4 && cc.InSlowStart; i++)
        {
            now = Round(cc, now, rtt: 14_000);
        }

        Assert.False(cc.InSlowStart);

        // ssthresh is the window where CSS ended; the rest of that round's acknowledgements grew it in avoidance.
        Assert.InRange(cc.CongestionWindow - cc.SlowStartThreshold, 0, 2 * Mss);
    }

    [Fact]
    public void ASpikeThatPassesReturnsToSlowStart()
    {
        var cc = new CubicController(Mss);
        long now = Round(cc, 0, rtt: 10_000);
        now = Round(cc, now, rtt: 10_000);
        now = Round(cc, now, rtt: 14_000);
        Assert.True(cc.InConservativeSlowStart);

        now = Round(cc, now, rtt: 10_000); // below the CSS baseline

        Assert.True(cc.InSlowStart);
        Assert.False(cc.InConservativeSlowStart);
        _ = now;
    }

    [Fact]
    public void FewerThanEightSamplesInARoundDecideNothing()
    {
        var cc = new CubicController(Mss);
        long now = Round(cc, 0, rtt: 10_000, samples: 5);
        now = Round(cc, now, rtt: 30_000, samples: 5);

        Assert.False(cc.InConservativeSlowStart);
        _ = now;
    }

    /// <summary>
    /// One round trip: a window's packets are sent at <paramref name="now"/>, and acknowledged by
    /// <paramref name="samples"/> ACKs each carrying an RTT sample of <paramref name="rtt"/>.
    /// </summary>
    private static long Round(CongestionController cc, long now, long rtt, int samples = 0)
    {
        long sent = now + 1;
        long window = cc.CongestionWindow;
        int packets = (int)(window / Mss);
        samples = samples == 0 ? packets : samples;
        for (int i = 0; i < packets; i++)
        {
            cc.OnPacketSent(Mss);
        }

        long arrival = sent + rtt;
        for (int i = 0; i < packets; i++)
        {
            if (i < samples)
            {
                cc.OnRttSample(rtt, sent, arrival);
            }

            cc.OnPacketAcked(Mss, sent, arrival, rtt);
        }

        return arrival;
    }
}
