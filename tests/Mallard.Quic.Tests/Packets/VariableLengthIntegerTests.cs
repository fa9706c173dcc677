using Mallard.Quic.Packets;

namespace Mallard.Quic.Tests.Packets;

public class VariableLengthIntegerTests
{
    /// <summary>RFC 9000 appendix A.1's examples.</summary>
    [Theory]
    [InlineData("c2197c5eff14e88c", 151_288_809_941_952_652UL)]
    [InlineData("9d7f3e7d", 494_878_333UL)]
    [InlineData("7bbd", 15_293UL)]
    [InlineData("25", 37UL)]
    [InlineData("4025", 37UL)]
    public void DecodesTheRfcExamples(string hex, ulong expected)
    {
        byte[] bytes = Convert.FromHexString(hex);

        Assert.True(VariableLengthInteger.TryRead(bytes, out ulong value, out int length));
        Assert.Equal(expected, value);
        Assert.Equal(bytes.Length, length);
    }

    [Theory]
    [InlineData(0UL, 1)]
    [InlineData(63UL, 1)]
    [InlineData(64UL, 2)]
    [InlineData(16_383UL, 2)]
    [InlineData(16_384UL, 4)]
    [InlineData(1_073_741_823UL, 4)]
    [InlineData(1_073_741_824UL, 8)]
    [InlineData(VariableLengthInteger.Max, 8)]
    public void RoundTripsAtEveryBoundaryInItsShortestForm(ulong value, int size)
    {
        byte[] buffer = new byte[8];

        Assert.Equal(size, VariableLengthInteger.TryWrite(buffer, value));
        Assert.True(VariableLengthInteger.TryRead(buffer, out ulong read, out int length));
        Assert.Equal(value, read);
        Assert.Equal(size, length);
        for (int prefix = 0; prefix < size; prefix++)
        {
            Assert.False(VariableLengthInteger.TryRead(buffer.AsSpan(0, prefix), out _, out _));
            Assert.Equal(0, VariableLengthInteger.TryWrite(new byte[prefix], value));
        }
    }

    [Fact]
    public void ValuesOver2To62AreRefused()
    {
        Assert.Equal(0, VariableLengthInteger.TryWrite(new byte[8], VariableLengthInteger.Max + 1));
        Assert.Equal(0, VariableLengthInteger.EncodedLength(ulong.MaxValue));
    }
}
