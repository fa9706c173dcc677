using Mallard.Quic.Streams;
using Mallard.Quic.Transport;

namespace Mallard.Quic.Tests.Streams;

public class ReassemblyBufferTests
{
    [Fact]
    public void OutOfOrderOverlappingAndRepeatedDataComesOutInOrder()
    {
        byte[] data = [.. Enumerable.Range(0, 100).Select(i => (byte)i)];
        var buffer = new ReassemblyBuffer(1000);

        Assert.Equal(TransportErrorCode.NoError, buffer.Receive(50, data.AsSpan(50, 30), false));
        Assert.Equal(0UL, buffer.Readable);
        Assert.Equal(TransportErrorCode.NoError, buffer.Receive(10, data.AsSpan(10, 45), false));
        Assert.Equal(TransportErrorCode.NoError, buffer.Receive(0, data.AsSpan(0, 20), false));
        Assert.Equal(80UL, buffer.Readable);
        Assert.Equal(TransportErrorCode.NoError, buffer.Receive(0, data.AsSpan(0, 5), false));
        Assert.Equal(TransportErrorCode.NoError, buffer.Receive(70, data.AsSpan(70, 30), true));

        byte[] read = new byte[200];
        int first = buffer.Read(read.AsSpan(0, 33));
        int rest = buffer.Read(read.AsSpan(33));
        Assert.Equal(100, first + rest);
        Assert.Equal(data, read[..100]);
        Assert.True(buffer.IsFinished);
    }

    [Fact]
    public void RandomDeliveryOfRandomChunksAlwaysReassembles()
    {
        var random = new Random(4);
        for (int trial = 0; trial < 100; trial++)
        {
            byte[] data = new byte[random.Next(1, 3000)];
            random.NextBytes(data);
            var chunks = new List<(int Offset, int Length)>();
            for (int offset = 0; offset < data.Length;)
            {
                int length = Math.Min(random.Next(1, 300), data.Length - offset);
                chunks.Add((offset, length));
                offset += length;
            }

            // Every chunk once, plus some repeats, in random order.
            chunks.AddRange(chunks.Take(chunks.Count / 3).ToList());
            var buffer = new ReassemblyBuffer((ulong)data.Length);
            foreach ((int offset, int length) in chunks.OrderBy(_ => random.Next()))
            {
                Assert.Equal(TransportErrorCode.NoError, buffer.Receive((ulong)offset, data.AsSpan(offset, length), offset + length == data.Length));
            }

            byte[] read = new byte[data.Length];
            Assert.Equal(data.Length, buffer.Read(read));
            Assert.Equal(data, read);
            Assert.True(buffer.IsFinished);
        }
    }

    [Fact]
    public void DataBeyondTheLimitIsAFlowControlError()
    {
        var buffer = new ReassemblyBuffer(100);

        Assert.Equal(TransportErrorCode.FlowControlError, buffer.Receive(90, new byte[11], false));
        buffer.RaiseLimit(200);
        Assert.Equal(TransportErrorCode.NoError, buffer.Receive(90, new byte[11], false));
        Assert.Equal(TransportErrorCode.CryptoBufferExceeded, new ReassemblyBuffer(10, TransportErrorCode.CryptoBufferExceeded).Receive(0, new byte[11], false));
    }

    [Fact]
    public void TheFinalSizeCannotChangeOrBeExceeded()
    {
        var buffer = new ReassemblyBuffer(1000);
        Assert.Equal(TransportErrorCode.NoError, buffer.Receive(0, new byte[50], true));

        Assert.Equal(TransportErrorCode.FinalSizeError, buffer.Receive(50, new byte[1], false));
        Assert.Equal(TransportErrorCode.FinalSizeError, buffer.Receive(0, new byte[40], true));
        Assert.Equal(TransportErrorCode.NoError, buffer.Receive(10, new byte[40], true));

        var early = new ReassemblyBuffer(1000);
        Assert.Equal(TransportErrorCode.NoError, early.Receive(100, new byte[10], false));
        Assert.Equal(TransportErrorCode.FinalSizeError, early.Receive(0, new byte[50], true));
    }
}
