using Mallard.Quic.Streams;

namespace Mallard.Quic.Tests.Streams;

public class SendBufferTests
{
    private static readonly byte[] Data = [.. Enumerable.Range(0, 250).Select(i => (byte)i)];

    [Fact]
    public void AnAcknowledgmentOfAlreadyReleasedDataDoesNotStallThePrefix()
    {
        var buffer = new SendBuffer(peerLimit: 1000);
        buffer.Write(Data);
        byte[] chunk = new byte[100];
        buffer.TryNext(100, chunk, out _, out _, out _);
        buffer.TryNext(100, chunk, out _, out _, out _);
        buffer.OnAcked(0, 100, false);
        buffer.OnAcked(50, 30, false);   // the late acknowledgment of a retransmission inside the released prefix
        buffer.OnAcked(100, 100, false);
        Assert.Equal(200UL, buffer.AckedPrefix);
    }

    [Fact]
    public void DataGoesOutInChunksUpToThePeersLimitAndTheFinRidesTheLastOne()
    {
        var buffer = new SendBuffer(peerLimit: 200);
        buffer.Write(Data);
        buffer.Finish();
        byte[] chunk = new byte[100];

        Assert.True(buffer.TryNext(100, chunk, out ulong offset, out int length, out bool fin));
        Assert.Equal((0UL, 100, false), (offset, length, fin));
        Assert.Equal(Data[..100], chunk);
        Assert.True(buffer.TryNext(100, chunk, out offset, out length, out fin));
        Assert.Equal((100UL, 100, false), (offset, length, fin));
        Assert.False(buffer.TryNext(100, chunk, out _, out _, out _));
        Assert.True(buffer.IsBlocked);

        buffer.RaisePeerLimit(1000);
        Assert.True(buffer.TryNext(100, chunk, out offset, out length, out fin));
        Assert.Equal((200UL, 50, true), (offset, length, fin));
        Assert.False(buffer.HasDataToSend);
    }

    [Fact]
    public void LostDataIsSentAgainFirstExceptWhatWasAcknowledgedSince()
    {
        var buffer = new SendBuffer(1000);
        buffer.Write(Data);
        byte[] chunk = new byte[100];
        buffer.TryNext(100, chunk, out _, out _, out _);   // 0-100
        buffer.TryNext(100, chunk, out _, out _, out _);   // 100-200

        buffer.OnAcked(150, 50, false);                    // a later retransmission covered 150-200
        buffer.OnLost(100, 100, false);

        Assert.True(buffer.TryNext(100, chunk, out ulong offset, out int length, out _));
        Assert.Equal((100UL, 50), (offset, length));
        Assert.Equal(Data[100..150], chunk[..50]);
        Assert.True(buffer.TryNext(100, chunk, out offset, out length, out _));
        Assert.Equal((200UL, 50), (offset, length));
    }

    [Fact]
    public void AcknowledgementsReleaseThePrefixAndCompleteTheStream()
    {
        var buffer = new SendBuffer(1000);
        buffer.Write(Data);
        buffer.Finish();
        byte[] chunk = new byte[300];
        buffer.TryNext(300, chunk, out _, out int length, out bool fin);
        Assert.Equal((250, true), (length, fin));

        buffer.OnAcked(100, 150, true);
        Assert.Equal(0UL, buffer.AckedPrefix);
        buffer.OnAcked(0, 100, false);

        Assert.Equal(250UL, buffer.AckedPrefix);
        Assert.True(buffer.IsComplete);
    }

    [Fact]
    public void AFinOnItsOwnIsSentAndResentWhenLost()
    {
        var buffer = new SendBuffer(1000);
        buffer.Write(Data.AsSpan(0, 10));
        byte[] chunk = new byte[100];
        buffer.TryNext(100, chunk, out _, out _, out bool fin);
        Assert.False(fin);

        buffer.Finish();
        Assert.True(buffer.TryNext(100, chunk, out ulong offset, out int length, out fin));
        Assert.Equal((10UL, 0, true), (offset, length, fin));

        buffer.OnLost(10, 0, true);
        Assert.True(buffer.TryNext(100, chunk, out offset, out length, out fin));
        Assert.Equal((10UL, 0, true), (offset, length, fin));
        Assert.Throws<InvalidOperationException>(() => buffer.Write([1]));
    }

    [Fact]
    public void RangeSetsMergeAndSplit()
    {
        var set = new RangeSet();
        set.Add(10, 20);
        set.Add(30, 40);
        set.Add(20, 30);
        Assert.Equal([(10UL, 40UL)], set.Ranges);

        set.Remove(15, 25);
        Assert.Equal([(10UL, 15UL), (25UL, 40UL)], set.Ranges);
        Assert.True(set.Covers(26, 39));
        Assert.False(set.Covers(14, 26));
        set.Remove(0, 100);
        Assert.True(set.IsEmpty);
    }

    [Fact]
    public void PagesAreHeldOnlyForUnacknowledgedOctets()
    {
        var buffer = new SendBuffer(ulong.MaxValue);
        Assert.Equal(0, buffer.PagesHeld);
        buffer.Write(new byte[10_000]); // octets 0..9999: three 4 KiB pages
        Assert.Equal(3, buffer.PagesHeld);

        byte[] chunk = new byte[10_000];
        Assert.True(buffer.TryNext(10_000, chunk, out _, out int length, out _));
        Assert.Equal(10_000, length);
        buffer.OnAcked(0, 5_000, false); // the first page is wholly acknowledged
        Assert.Equal(2, buffer.PagesHeld);
        buffer.OnAcked(5_000, 5_000, false); // everything: no page is kept for an idle stream
        Assert.Equal(0, buffer.PagesHeld);

        // The next write starts in the middle of a page, on a fresh one.
        buffer.Write(Data);
        Assert.Equal(1, buffer.PagesHeld);
        Assert.True(buffer.TryNext(1_000, chunk, out ulong offset, out length, out _));
        Assert.Equal((10_000UL, Data.Length), (offset, length));
        Assert.Equal(Data, chunk[..length]);
    }

    [Fact]
    public void WritesAcknowledgementsAndLossesInterleavedKeepEveryOctetInPlace()
    {
        // Writes of odd sizes while the acknowledged prefix advances cross page boundaries and
        // release pages many times; every octet sent (first time or again after a loss) must be the one written.
        var random = new Random(12);
        var buffer = new SendBuffer(ulong.MaxValue);
        byte[] chunk = new byte[4096];
        ulong written = 0;
        var unacked = new List<(ulong Offset, int Length)>();
        for (int round = 0; round < 3_000; round++)
        {
            byte[] data = new byte[random.Next(1, 9_000)];
            for (int i = 0; i < data.Length; i++)
            {
                data[i] = Expected(written + (ulong)i);
            }

            buffer.Write(data);
            written += (ulong)data.Length;
            while (buffer.TryNext(random.Next(100, 4096), chunk, out ulong offset, out int length, out _) && length > 0)
            {
                for (int i = 0; i < length; i++)
                {
                    Assert.Equal(Expected(offset + (ulong)i), chunk[i]);
                }

                unacked.Add((offset, length));
            }

            // Acknowledge most of what is out, in a shuffled order; lose a few.
            foreach ((ulong offset, int length) in unacked.OrderBy(_ => random.Next()).ToList())
            {
                if (random.NextDouble() < 0.05)
                {
                    buffer.OnLost(offset, length, false);
                }
                else if (random.NextDouble() < 0.8)
                {
                    buffer.OnAcked(offset, length, false);
                }
                else
                {
                    continue;
                }

                unacked.Remove((offset, length));
            }
        }

        Assert.True(buffer.AckedPrefix > written / 2, $"only {buffer.AckedPrefix} of {written} octets were released");
        Assert.Equal(written - buffer.AckedPrefix, buffer.Buffered);

        static byte Expected(ulong offset) => (byte)((offset * 31) ^ (offset >> 9));
    }
}
