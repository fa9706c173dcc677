using Mallard.Quic.Connections;

namespace Mallard.Quic.Tests.Connections;

/// <summary>
/// The DPLPMTUD search on its own (RFC 8899, RFC 9000 section 14.3): the ceiling first, halving
/// after, MAX_PROBES losses per size, black hole fallback and the raise timer.
/// </summary>
public class PathMtuDiscoveryTests
{
    private const long Now = 1_000_000;

    [Fact]
    public void BeforeStartOnly1200IsSentAndNothingIsProbed()
    {
        var discovery = new PathMtuDiscovery(enabled: true);
        Assert.Equal(1200, discovery.Current);
        Assert.Null(discovery.ProbeDue(Now));
    }

    [Fact]
    public void TheCeilingIsProbedFirstAndOneAcknowledgementEndsTheSearch()
    {
        var discovery = new PathMtuDiscovery(enabled: true);
        discovery.Start(1452, Now);
        Assert.Equal(1452, discovery.ProbeDue(Now));
        discovery.OnProbeSent(7);
        Assert.Null(discovery.ProbeDue(Now)); // one probe in flight at a time
        Assert.Equal(1200, discovery.Current); // not before the acknowledgement
        Assert.True(discovery.OnProbeAcknowledged(7, Now));
        Assert.Equal(1452, discovery.Current);
        Assert.True(discovery.SearchComplete);
        Assert.Null(discovery.ProbeDue(Now));
    }

    [Fact]
    public void ASizeIsGivenUpOnlyAfterMaxProbesOfItAreLost()
    {
        var discovery = new PathMtuDiscovery(enabled: true);
        discovery.Start(1452, Now);
        for (ulong probe = 1; probe <= PathMtuDiscovery.MaxProbes; probe++)
        {
            Assert.Equal(1452, discovery.ProbeDue(Now));
            discovery.OnProbeSent(probe);
            discovery.OnProbeLost(probe, Now);
        }

        int? next = discovery.ProbeDue(Now);
        Assert.InRange(next ?? 0, 1201, 1451);
        Assert.Equal(1200, discovery.Current);
    }

    [Fact]
    public void TheSearchEndsWithinTheGranularityBelowWhateverThePathCarries()
    {
        for (int path = 1200; path <= 1500; path++)
        {
            var discovery = new PathMtuDiscovery(enabled: true);
            discovery.Start(1452, Now);
            ulong packetNumber = 0;
            int lost = 0;
            while (discovery.ProbeDue(Now) is int size)
            {
                discovery.OnProbeSent(++packetNumber);
                if (size <= path)
                {
                    discovery.OnProbeAcknowledged(packetNumber, Now);
                }
                else
                {
                    discovery.OnProbeLost(packetNumber, Now);
                    lost++;
                }

                Assert.True(packetNumber < 40, $"path {path}: the search does not end");
            }

            int expected = Math.Min(path, 1452);
            Assert.InRange(discovery.Current, expected - PathMtuDiscovery.SearchGranularity + 1, expected);
            Assert.True(discovery.SearchComplete);
            Assert.True(lost <= PathMtuDiscovery.MaxProbes * 5, $"path {path}: {lost} probes lost");
        }
    }

    [Fact]
    public void AProbeOfAnAbandonedSearchChangesNothing()
    {
        var discovery = new PathMtuDiscovery(enabled: true);
        discovery.Start(1452, Now);
        discovery.ProbeDue(Now);
        discovery.OnProbeSent(3);
        discovery.Reset(Now); // a new path before the probe's acknowledgement
        Assert.False(discovery.OnProbeAcknowledged(3, Now));
        Assert.Equal(1200, discovery.Current);
        Assert.Equal(1452, discovery.ProbeDue(Now)); // and the new path is searched from the start
    }

    [Fact]
    public void ThreeSuspiciousLossesInARowAreABlackHoleAndTheSearchStartsOver()
    {
        PathMtuDiscovery discovery = Discovered(1452);
        Assert.False(discovery.OnSuspiciousLoss(Now));
        Assert.False(discovery.OnSuspiciousLoss(Now));
        Assert.True(discovery.OnSuspiciousLoss(Now));
        Assert.Equal(1200, discovery.Current);
        Assert.Equal(1, discovery.BlackHoles);
        Assert.Equal(1452, discovery.ProbeDue(Now));
    }

    [Fact]
    public void ALargePacketAcknowledgedBetweenLossesIsNoBlackHole()
    {
        PathMtuDiscovery discovery = Discovered(1452);
        for (int i = 0; i < 10; i++)
        {
            Assert.False(discovery.OnSuspiciousLoss(Now));
            Assert.False(discovery.OnSuspiciousLoss(Now));
            discovery.OnLargePacketAcknowledged(); // congestion loses some large packets; others get through
        }

        Assert.Equal(1452, discovery.Current);
        Assert.Equal(0, discovery.BlackHoles);
    }

    [Fact]
    public void AtTheBaseSizeLossesAreNeverABlackHole()
    {
        var discovery = new PathMtuDiscovery(enabled: true);
        discovery.Start(1452, Now);
        for (int i = 0; i < 10; i++)
        {
            Assert.False(discovery.OnSuspiciousLoss(Now));
        }
    }

    [Fact]
    public void AFinishedSearchIsTriedAgainAfterTheRaiseTimer()
    {
        var discovery = new PathMtuDiscovery(enabled: true);
        discovery.Start(1452, Now);
        ulong packetNumber = 0;
        while (discovery.ProbeDue(Now) is int size)
        {
            discovery.OnProbeSent(++packetNumber);
            if (size <= 1300)
            {
                discovery.OnProbeAcknowledged(packetNumber, Now);
            }
            else
            {
                discovery.OnProbeLost(packetNumber, Now);
            }
        }

        int found = discovery.Current;
        Assert.Null(discovery.ProbeDue(Now + PathMtuDiscovery.RaiseInterval - 1));
        Assert.Equal(1452, discovery.ProbeDue(Now + PathMtuDiscovery.RaiseInterval)); // the path may have grown
        Assert.Equal(found, discovery.Current);
    }

    [Fact]
    public void DisabledItTrustsTheCeilingAndNeverProbes()
    {
        var discovery = new PathMtuDiscovery(enabled: false);
        discovery.Start(1452, Now);
        Assert.Equal(1452, discovery.Current);
        Assert.Null(discovery.ProbeDue(Now));
        discovery.Reset(Now);
        Assert.Equal(1452, discovery.Current);
    }

    [Fact]
    public void ACeilingAtTheBaseSizeNeedsNoSearch()
    {
        var discovery = new PathMtuDiscovery(enabled: true);
        discovery.Start(1200, Now);
        Assert.Null(discovery.ProbeDue(Now));
        Assert.True(discovery.SearchComplete);
    }

    private static PathMtuDiscovery Discovered(int size)
    {
        var discovery = new PathMtuDiscovery(enabled: true);
        discovery.Start(size, Now);
        Assert.Equal(size, discovery.ProbeDue(Now));
        discovery.OnProbeSent(1);
        discovery.OnProbeAcknowledged(1, Now);
        Assert.Equal(size, discovery.Current);
        return discovery;
    }
}
