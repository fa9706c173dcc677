using Mallard.Quic.Connections;

namespace Mallard.Quic.Tests.Connections;

public class StreamCountsTests
{
    [Fact]
    public void StreamsOpenWithinThePeersLimitAndEachEndedPeerStreamGrantsOneMore()
    {
        var counts = new StreamCounts(localLimit: 3);
        Assert.False(counts.CanOpen); // no limit from the peer yet
        counts.RaisePeerLimit(2);
        counts.RaisePeerLimit(1); // a smaller MAX_STREAMS changes nothing (RFC 9000 section 19.11)
        Assert.Equal(0UL, counts.Open());
        Assert.Equal(1UL, counts.Open());
        Assert.False(counts.CanOpen);

        Assert.Equal(3UL, counts.LocalLimit);
        counts.GrantOneMore();
        Assert.Equal(4UL, counts.LocalLimit);
    }
}
