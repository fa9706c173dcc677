using Mallard.Quic.Congestion;

namespace Mallard.Quic.Tests.Congestion;

public class NewRenoControllerTests
{
    [Fact]
    public void TheInitialWindowIsTenDatagramsWithinTheRfcBounds()
    {
        Assert.Equal(12_000, NewRenoController.InitialWindow(1200));
        Assert.Equal(14_720, NewRenoController.InitialWindow(1500));
        Assert.Equal(18_000, NewRenoController.InitialWindow(9000));
    }

    [Fact]
    public void SlowStartGrowsByTheBytesAcknowledged()
    {
        var cc = new NewRenoController();
        for (int i = 0; i < 10; i++)
        {
            Assert.True(cc.CanSend(1200));
            cc.OnPacketSent(1200);
        }

        Assert.False(cc.CanSend(1200));
        cc.OnPacketAcked(1200, sentTime: 10, now: 1_000, smoothedRtt: 100);

        Assert.Equal(13_200, cc.CongestionWindow);
        Assert.Equal(10_800, cc.BytesInFlight);
    }

    [Fact]
    public void ALossHalvesTheWindowOncePerFlightThenGrowsOneDatagramPerWindow()
    {
        var cc = new NewRenoController();
        for (int i = 0; i < 10; i++)
        {
            cc.OnPacketSent(1200);
        }

        cc.OnPacketsLost(1200, largestLostSentTime: 5, now: 100);
        Assert.Equal(6_000, cc.CongestionWindow);
        Assert.False(cc.InSlowStart);

        // A second loss from the same flight (sent before recovery began) changes nothing.
        cc.OnPacketsLost(1200, largestLostSentTime: 6, now: 110);
        Assert.Equal(6_000, cc.CongestionWindow);

        // Acks of packets sent before recovery do not grow the window.
        cc.OnPacketAcked(1200, sentTime: 50, now: 1_000, smoothedRtt: 100);
        Assert.Equal(6_000, cc.CongestionWindow);

        // Congestion avoidance: a whole window acknowledged adds one datagram.
        for (int i = 0; i < 5; i++)
        {
            cc.OnPacketSent(1200);
            cc.OnPacketAcked(1200, sentTime: 200 + i, now: 1_000, smoothedRtt: 100);
        }

        Assert.Equal(7_200, cc.CongestionWindow);
    }

    [Fact]
    public void PersistentCongestionCollapsesToTheMinimumWindow()
    {
        var cc = new NewRenoController();

        cc.OnPersistentCongestion();

        Assert.Equal(2_400, cc.CongestionWindow);
        cc.OnPacketSent(1200);
        cc.OnPacketDiscarded(1200);
        Assert.Equal(0, cc.BytesInFlight);
    }
}
