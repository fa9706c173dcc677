using Mallard.Quic.Congestion;
using Mallard.Quic.Connections;
using Mallard.Quic.Recovery;
using Mallard.Quic.Tests.Connections;
using Mallard.Quic.Tests.TestSupport;

namespace Mallard.Quic.Tests.Recovery;

/// <summary>
/// Sent-packet records are reused: loss detection hands them back to the pool only once the caller
/// has finished with an ACK's or a loss's results, and never while they are still tracked.
/// </summary>
public class SentPacketPoolTests
{
    private const long Ms = 1_000;

    [Fact]
    public void AcknowledgedAndLostPacketsReturnOnlyAfterTheResultsAreReleased()
    {
        var pool = new SentPacketPool();
        var detector = new LossDetector(pool);
        var rtt = new RttEstimator();
        var cc = new NewRenoController();
        for (ulong pn = 0; pn < 6; pn++)
        {
            SentPacket packet = pool.Rent();
            packet.Reset(pn, (long)pn * Ms, 1200, ackEliciting: true, inFlight: true, mtuProbe: false, [new SentFrame(SentFrameKind.Ping)]);
            detector.OnPacketSent(packet, cc);
        }

        AckOutcome outcome = detector.OnAckReceived([(4, 5), (0, 0)], 0, 50 * Ms, rtt, 25 * Ms, true, cc);
        Assert.Equal(3, outcome.Acknowledged.Count);
        Assert.Equal([1UL, 2UL], outcome.Lost.Select(p => p.Number)); // three or more below the largest
        Assert.Equal(0, pool.Count); // still being read by the caller
        Assert.Equal(1, outcome.Lost[0].Frames.Length);

        detector.ReleaseResults();
        Assert.Equal(5, pool.Count);
        Assert.Equal(3UL, Assert.Single(detector.Unacknowledged).Number); // still tracked, not pooled

        detector.Discard(cc);
        Assert.Equal(6, pool.Count);
    }

    [Fact]
    public void AReusedRecordDescribesOnlyItsNewPacket()
    {
        var pool = new SentPacketPool();
        SentPacket first = pool.Rent();
        first.Reset(1, 10, 1200, true, true, mtuProbe: true, [new SentFrame(SentFrameKind.Ping), new SentFrame(SentFrameKind.MaxData), new SentFrame(SentFrameKind.HandshakeDone)]);
        pool.Return(first);

        SentPacket second = pool.Rent();
        Assert.Same(first, second);
        second.Reset(2, 20, 50, false, false, mtuProbe: false, [new SentFrame(SentFrameKind.Ack, 7)]);
        Assert.Equal(2UL, second.Number);
        Assert.False(second.MtuProbe);
        Assert.Equal([new SentFrame(SentFrameKind.Ack, 7)], second.Frames.ToArray());
    }

    [Fact]
    public void ForgottenAckOnlyPacketsAreReused()
    {
        var pool = new SentPacketPool();
        var detector = new LossDetector(pool);
        var cc = new NewRenoController();
        var records = new HashSet<SentPacket>(ReferenceEqualityComparer.Instance);
        for (ulong pn = 0; pn < 1_000; pn++)
        {
            SentPacket packet = pool.Rent();
            records.Add(packet);
            packet.Reset(pn, (long)pn, 40, ackEliciting: false, inFlight: false, mtuProbe: false, [new SentFrame(SentFrameKind.Ack)]);
            detector.OnPacketSent(packet, cc);
        }

        // Only the newest ACK-only packets are remembered; each one forgotten describes a later one.
        Assert.Equal(LossDetector.MaxAckOnlyRemembered, detector.Remembered);
        Assert.Equal(LossDetector.MaxAckOnlyRemembered + 1, records.Count);
    }

    [Fact]
    public void ThePoolIsBoundedAndTrimsWhenIdle()
    {
        var pool = new SentPacketPool();
        for (int i = 0; i < SentPacketPool.Capacity + 50; i++)
        {
            pool.Return(new SentPacket());
        }

        Assert.Equal(SentPacketPool.Capacity, pool.Count);
        pool.Trim();
        Assert.Equal(SentPacketPool.IdleCapacity, pool.Count);
    }

    [Fact]
    public void AConnectionKeepsItsRecordsThroughABulkTransferAndGivesThemBackASecondAfterIt()
    {
        using var network = new VirtualNetwork(5) { Delay = 20_000 };
        ConnectionTests.Transfer(network, 3_000_000);
        Connection server = network.ServerConnection!;
        Assert.True(network.RunUntil(() => server.BytesInFlight == 0, 5_000_000));

        // The flight that just ended needed more records than an idle connection keeps: they stay
        // for now, so that a transfer whose flight empties for a moment does not make them all again.
        int kept = server.SentPacketRecordsKept;
        Assert.True(kept > SentPacketPool.IdleCapacity, $"{kept} records kept after a 3 MB flight");

        network.RunUntil(() => false, 1_500_000);
        Assert.Equal(SentPacketPool.IdleCapacity, server.SentPacketRecordsKept);
    }
}
