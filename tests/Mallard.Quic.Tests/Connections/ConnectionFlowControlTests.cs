using Mallard.Quic.Connections;

namespace Mallard.Quic.Tests.Connections;

public class ConnectionFlowControlTests
{
    [Fact]
    public void CreditFollowsThePeersLargestLimitAndDataBlockedIsDueOncePerLimit()
    {
        var flow = new ConnectionFlowControl(initialWindow: 1_000);
        flow.RaisePeerLimit(100);
        flow.RaisePeerLimit(50); // a smaller MAX_DATA changes nothing (RFC 9000 section 19.9)
        Assert.Equal(100UL, flow.Credit);

        flow.OnSent(100);
        Assert.Equal(0UL, flow.Credit);
        Assert.True(flow.DataBlockedDue);
        flow.OnDataBlockedSent();
        Assert.False(flow.DataBlockedDue); // once per limit

        flow.RaisePeerLimit(300);
        Assert.Equal(200UL, flow.Credit);
        flow.OnSent(200);
        Assert.True(flow.DataBlockedDue); // a new limit, blocked again
    }

    [Fact]
    public void ReceivingPastTheAdvertisedLimitIsRefused()
    {
        var flow = new ConnectionFlowControl(initialWindow: 1_000);
        Assert.True(flow.OnReceived(600));
        Assert.True(flow.OnReceived(400));
        Assert.False(flow.OnReceived(1));
    }

    [Fact]
    public void TheLimitMovesOnceHalfTheWindowIsReadAndTheWindowDoublesWhenThatWasQuick()
    {
        var flow = new ConnectionFlowControl(initialWindow: 1_000);
        Assert.False(flow.OnRead(400, now: 1_000_000, twoRoundTrips: 20_000, maxWindow: 10_000)); // 600 left of 1,000
        Assert.True(flow.OnRead(200, now: 2_000_000, twoRoundTrips: 20_000, maxWindow: 10_000));  // 400 left: a new limit
        Assert.Equal(1_000UL, flow.Window); // a second since the last move: not quick, no growth
        Assert.Equal(1_600UL, flow.LocalLimit);

        Assert.True(flow.OnRead(600, now: 2_010_000, twoRoundTrips: 20_000, maxWindow: 10_000)); // within two round trips
        Assert.Equal(2_000UL, flow.Window);
        Assert.Equal(3_200UL, flow.LocalLimit);

        for (int i = 0; i < 10; i++)
        {
            flow.OnRead(flow.LocalLimit - flow.Read, now: 2_020_000 + i, twoRoundTrips: 20_000, maxWindow: 10_000);
        }

        Assert.Equal(10_000UL, flow.Window); // never beyond the largest window
    }
}
