using Mallard.Quic.Connections;

namespace Mallard.Quic.Tests.Connections;

public class AmplificationLimitTests
{
    [Fact]
    public void AnUnvalidatedAddressGetsThreeTimesWhatItSentUntilValidated()
    {
        var limit = new AmplificationLimit(validated: false);
        Assert.Equal(0, limit.Allowance);
        limit.OnReceived(1_200);
        Assert.Equal(3_600, limit.Allowance);
        limit.OnSent(3_000);
        Assert.Equal(600, limit.Allowance);

        limit.Validate();
        Assert.Equal(long.MaxValue, limit.Allowance);
    }

    [Fact]
    public void ANewPathStartsCountingFromNothing()
    {
        var limit = new AmplificationLimit(validated: true);
        limit.OnReceived(10_000);
        limit.StartOver(); // RFC 9000 section 9.3: the new address has sent nothing yet
        Assert.False(limit.AddressValidated);
        Assert.Equal(0, limit.Allowance);
        limit.OnReceived(100);
        Assert.Equal(300, limit.Allowance);
    }
}
