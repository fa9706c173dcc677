namespace Mallard.QuicLb.Tests;

public class UnroutableConnectionIdGeneratorTests
{
    [Theory]
    [InlineData(8)]
    [InlineData(20)]
    public void MarksTheConnectionIdUnroutableAndEncodesItsLength(int length)
    {
        byte[] connectionId = new UnroutableConnectionIdGenerator(length).Issue();

        Assert.Equal(length, connectionId.Length);
        Assert.Equal(0b111, connectionId[0] >> 5);
        Assert.Equal(length - 1, connectionId[0] & 0x1f);
    }

    [Fact]
    public void DecodersReportItAsUnroutable()
    {
        var decoder = new ConnectionIdDecoder([new QuicLbConfig(0, 4, 4)]);

        QuicLbDecodeResult result = decoder.Decode(new UnroutableConnectionIdGenerator().Issue());

        Assert.Equal(UnroutableReason.UnroutableConfigId, result.Reason);
        Assert.Equal(7, result.ConfigId);
    }

    [Theory]
    [InlineData(7)]
    [InlineData(21)]
    public void RejectsLengthsOutsideEightToTwenty(int length)
    {
        var error = Assert.Throws<QuicLbConfigException>(() => new UnroutableConnectionIdGenerator(length));

        Assert.Equal($"length is {length}; an unroutable connection ID is 8 to 20 octets.", error.Reason);
    }
}
