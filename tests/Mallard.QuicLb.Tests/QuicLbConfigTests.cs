namespace Mallard.QuicLb.Tests;

public class QuicLbConfigTests
{
    [Theory]
    [InlineData(-1, "configId", "configId is -1; it must be 0 to 6.")]
    [InlineData(7, "configId", "configId 7 (0b111) is reserved for unroutable connection IDs; use 0 to 6.")]
    [InlineData(8, "configId", "configId is 8; it must be 0 to 6.")]
    public void RejectsConfigIdOutOfRange(int configId, string parameter, string message)
    {
        var error = Assert.Throws<QuicLbConfigException>(() => new QuicLbConfig(configId, 4, 8));
        Assert.Equal(parameter, error.ParamName);
        Assert.Equal(message, error.Reason);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(16)]
    public void RejectsServerIdLengthOutOfRange(int length)
    {
        var error = Assert.Throws<QuicLbConfigException>(() => new QuicLbConfig(0, length, 4));
        Assert.Equal("serverIdLength", error.ParamName);
        Assert.Equal($"serverIdLength is {length}; it must be 1 to 15 octets.", error.Reason);
    }

    [Theory]
    [InlineData(3)]
    [InlineData(19)]
    public void RejectsNonceLengthOutOfRange(int length)
    {
        var error = Assert.Throws<QuicLbConfigException>(() => new QuicLbConfig(0, 1, length));
        Assert.Equal("nonceLength", error.ParamName);
        Assert.Equal($"nonceLength is {length}; it must be 4 to 18 octets.", error.Reason);
    }

    [Fact]
    public void RejectsACombinedLengthOverNineteen()
    {
        var error = Assert.Throws<QuicLbConfigException>(() => new QuicLbConfig(0, 15, 5));
        Assert.Equal("nonceLength", error.ParamName);
        Assert.StartsWith("serverIdLength + nonceLength is 20; it must be at most 19 octets", error.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(15)]
    [InlineData(17)]
    [InlineData(32)]
    public void RejectsAKeyThatIsNotSixteenOctets(int keyLength)
    {
        var error = Assert.Throws<QuicLbConfigException>(() => new QuicLbConfig(0, 4, 8, new byte[keyLength]));
        Assert.Equal("key", error.ParamName);
        Assert.Contains($"key is {keyLength} octets; it must be exactly 16 octets", error.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void MessageAlsoCarriesTheParameterName()
    {
        var error = Assert.Throws<QuicLbConfigException>(() => new QuicLbConfig(0, 4, 2));
        Assert.Contains("nonceLength", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(1, 4, false, QuicLbAlgorithm.Plaintext)]
    [InlineData(8, 8, true, QuicLbAlgorithm.SinglePass)]
    [InlineData(4, 12, true, QuicLbAlgorithm.SinglePass)]
    [InlineData(3, 4, true, QuicLbAlgorithm.FourPass)]
    [InlineData(15, 4, true, QuicLbAlgorithm.FourPass)]
    [InlineData(1, 18, true, QuicLbAlgorithm.FourPass)]
    public void ChoosesTheAlgorithmFromKeyAndLength(int serverIdLength, int nonceLength, bool withKey, QuicLbAlgorithm expected)
    {
        var config = new QuicLbConfig(6, serverIdLength, nonceLength, withKey ? new byte[16] : default);

        Assert.Equal(expected, config.Algorithm);
        Assert.Equal(1 + serverIdLength + nonceLength, config.ConnectionIdLength);
        Assert.Equal(withKey, config.HasKey);
    }

    [Fact]
    public void KeepsItsOwnCopyOfTheKey()
    {
        byte[] key = Enumerable.Range(0, 16).Select(i => (byte)i).ToArray();
        var config = new QuicLbConfig(0, 4, 8, key);
        key[0] = 0xff;

        Assert.Equal(0, config.Key[0]);
    }
}
