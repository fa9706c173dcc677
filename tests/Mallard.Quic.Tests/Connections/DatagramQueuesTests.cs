using Mallard.Quic.Connections;

namespace Mallard.Quic.Tests.Connections;

public class DatagramQueuesTests
{
    [Fact]
    public void AFullSendQueueRefusesAndCountsAndTheHeadStaysUntilTaken()
    {
        var queues = new DatagramQueues(sendCapacity: 2, receiveCapacity: 4, _ => { });
        Assert.True(queues.TryEnqueue("a"u8, id: 1, deadline: long.MaxValue));
        Assert.True(queues.TryEnqueue("b"u8, id: 0, deadline: 100));
        Assert.False(queues.TryEnqueue("c"u8, id: 0, deadline: long.MaxValue));
        Assert.Equal(1, queues.Counters.DroppedOnSend);

        // A peeked head that does not fit a packet yet stays first.
        Assert.True(queues.TryPeek(out QueuedDatagram head));
        Assert.True(queues.TryPeek(out QueuedDatagram again));
        Assert.Equal(head, again);
        Assert.Equal("a"u8.ToArray(), head.Payload.ToArray());
        queues.Take(head, sent: true);
        Assert.True(queues.TryEnqueue("c"u8, id: 0, deadline: long.MaxValue)); // room again

        Assert.True(queues.TryPeek(out QueuedDatagram stale));
        queues.Take(stale, sent: false, expired: true);
        Assert.Equal((1L, 1L), (queues.Counters.Sent, queues.Counters.Expired));
    }

    [Fact]
    public void OutcomesAreReportedOnlyForTrackedDatagrams()
    {
        var queues = new DatagramQueues(sendCapacity: 8, receiveCapacity: 4, _ => { });
        queues.OnOutcome(id: 7, acknowledged: true);
        queues.OnOutcome(id: 0, acknowledged: false);
        queues.TryEnqueue("x"u8, id: 9, deadline: 0);
        queues.TryPeek(out QueuedDatagram expired);
        queues.Take(expired, sent: false, expired: true);

        Assert.True(queues.TryTakeOutcome(out ulong id, out QuicDatagramDelivery delivery));
        Assert.Equal((7UL, QuicDatagramDelivery.Acknowledged), (id, delivery));
        Assert.True(queues.TryTakeOutcome(out id, out delivery));
        Assert.Equal((9UL, QuicDatagramDelivery.Expired), (id, delivery));
        Assert.False(queues.TryTakeOutcome(out _, out _));
        Assert.Equal((1L, 1L), (queues.Counters.Acknowledged, queues.Counters.Lost));
    }

    [Fact]
    public void AFullReceiveQueueGivesUpItsOldestAndReadersSeeTheEnd()
    {
        var dropped = new List<int>();
        var queues = new DatagramQueues(sendCapacity: 8, receiveCapacity: 2, oldest => dropped.Add(oldest.Payload[0]));
        queues.Deliver([1]);
        queues.Deliver([2]);
        queues.Deliver([3]);
        Assert.Equal([1], dropped);
        Assert.Equal(1, queues.Counters.DroppedOnReceive);
        Assert.Equal(3, queues.Counters.Received);

        var buffer = new byte[1];
        Assert.False(queues.TryRead(Span<byte>.Empty, out _)); // too small: it stays
        Assert.True(queues.TryRead(buffer, out int length));
        Assert.Equal((1, (byte)2), (length, buffer[0]));

        queues.TryEnqueue("unsent"u8, id: 4, deadline: long.MaxValue);
        queues.Abandon();
        Assert.Equal(1, queues.Counters.Lost);
        Assert.True(queues.TryRead(out byte[] last)); // what is left can still be read
        Assert.Equal([3], last);
        Assert.True(queues.Reader.Completion.IsCompleted);
    }
}
