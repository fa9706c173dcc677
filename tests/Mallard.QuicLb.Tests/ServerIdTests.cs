namespace Mallard.QuicLb.Tests;

public class ServerIdTests
{
    [Fact]
    public void EqualityDependsOnOctetsAndLength()
    {
        Assert.Equal(ServerId.Parse("41414141"), new ServerId([0x41, 0x41, 0x41, 0x41]));
        Assert.NotEqual(ServerId.Parse("4141"), ServerId.Parse("414100"));
        Assert.NotEqual(ServerId.Parse("00"), default);
        Assert.True(ServerId.Parse("0xABCDEF") == ServerId.Parse("abcdef"));
        Assert.Equal(ServerId.Parse("0102").GetHashCode(), new ServerId([1, 2]).GetHashCode());
    }

    [Fact]
    public void RoundTripsThroughHex()
    {
        var id = ServerId.Parse("00112233445566778899aabbccddee");

        Assert.Equal(15, id.Length);
        Assert.Equal("00112233445566778899aabbccddee", id.ToString());
        Assert.Equal(Hex.Bytes("00112233445566778899aabbccddee"), id.ToArray());
    }

    [Theory]
    [InlineData("")]
    [InlineData("abc")]
    [InlineData("00112233445566778899aabbccddeeff")]
    [InlineData("zz")]
    public void RejectsBadHex(string text) => Assert.Throws<FormatException>(() => ServerId.Parse(text));

    [Fact]
    public void RejectsEmptyAndLongOctetSpans()
    {
        Assert.Throws<ArgumentException>(() => new ServerId([]));
        Assert.Throws<ArgumentException>(() => new ServerId(new byte[16]));
    }
}
