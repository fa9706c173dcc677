using Mallard.Quic.Recovery;

namespace Mallard.Quic.Tests.Recovery;

public class RttEstimatorTests
{
    [Fact]
    public void BeforeAnySampleTheInitialRttApplies()
    {
        var rtt = new RttEstimator();

        Assert.Equal(333_000, rtt.SmoothedRtt);
        Assert.Equal(166_500, rtt.RttVariation);
        Assert.Equal(333_000 + (4 * 166_500) + 25_000, rtt.ProbeTimeout(25_000));
    }

    [Fact]
    public void TheFirstSampleSetsEverything()
    {
        var rtt = new RttEstimator();

        rtt.Update(100_000, 10_000, 25_000, handshakeConfirmed: true);

        Assert.Equal((100_000L, 100_000L, 50_000L), (rtt.MinRtt, rtt.SmoothedRtt, rtt.RttVariation));
    }

    [Fact]
    public void LaterSamplesSmoothAndSubtractTheAckDelayOnlyAboveMinRtt()
    {
        var rtt = new RttEstimator();
        rtt.Update(100_000, 0, 25_000, true);

        rtt.Update(120_000, 10_000, 25_000, true);

        // adjusted = 110 ms; rttvar = (3 * 50 + |100 - 110|) / 4 = 40 ms; srtt = (7 * 100 + 110) / 8 = 101.25 ms.
        Assert.Equal(40_000, rtt.RttVariation);
        Assert.Equal(101_250, rtt.SmoothedRtt);

        // A delay that would take the sample below min_rtt is ignored.
        rtt.Update(105_000, 50_000, 25_000, false);
        Assert.Equal(100_000, rtt.MinRtt);
        Assert.Equal(((7 * 101_250) + 105_000) / 8, rtt.SmoothedRtt);
    }

    [Fact]
    public void TheAckDelayIsCappedAtMaxAckDelayOnceConfirmed()
    {
        var rtt = new RttEstimator();
        rtt.Update(100_000, 0, 25_000, true);

        rtt.Update(200_000, 80_000, 25_000, handshakeConfirmed: true);

        Assert.Equal(((7 * 100_000) + 175_000) / 8, rtt.SmoothedRtt);
    }

    [Fact]
    public void TheLossDelayIsNineEighthsOfTheLargerRtt()
    {
        var rtt = new RttEstimator();
        rtt.Update(80_000, 0, 0, true);

        Assert.Equal(90_000, rtt.LossDelay());
    }
}
