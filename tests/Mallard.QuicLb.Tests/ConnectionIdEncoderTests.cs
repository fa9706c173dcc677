using System.Collections.Concurrent;

namespace Mallard.QuicLb.Tests;

public class ConnectionIdEncoderTests
{
    private static readonly byte[] Key = Hex.Bytes("8f95f09245765f80256934e50c66207f");

    [Fact]
    public void EncryptedNoncesCountUpFromARandomStart()
    {
        var config = new QuicLbConfig(1, 4, 4, Key, encodeLength: true);
        var random = new Random(42);
        var encoder = new ConnectionIdEncoder(config, [1, 2, 3, 4], random.NextBytes);
        var decoder = new ConnectionIdDecoder([config]);
        var nonce = new byte[QuicLbConfig.MaxNonceLength];

        decoder.DecodeWithNonce(encoder.Issue(), nonce, out _);
        uint first = System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(nonce);
        decoder.DecodeWithNonce(encoder.Issue(), nonce, out _);
        uint second = System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(nonce);

        Assert.Equal(first + 1, second);
        Assert.NotEqual(0u, first);
    }

    [Fact]
    public void EncryptedConnectionIdsNeverRepeat()
    {
        var encoder = new ConnectionIdEncoder(new QuicLbConfig(0, 3, 4, Key), [9, 9, 9]);
        var seen = new ConcurrentDictionary<string, bool>();

        Parallel.For(0, 20_000, _ => Assert.True(seen.TryAdd(Hex.Of(encoder.Issue().AsSpan(1)), true)));

        Assert.Equal((UInt128)20_000, encoder.Issued);
    }

    [Fact]
    public void ExhaustionIsAClearErrorNotAWrap()
    {
        var config = new QuicLbConfig(2, 4, 4, Key);
        var encoder = new ConnectionIdEncoder(config, [1, 2, 3, 4]);
        encoder.Issued = (UInt128.One << 32) - 1;

        encoder.Issue();
        var error = Assert.Throws<ConnectionIdExhaustedException>(() => encoder.Issue());

        Assert.Contains("2^32 nonces of config 2", error.Message, StringComparison.Ordinal);
        Assert.Contains("01020304", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LengthIsSelfEncodedWhenConfigured()
    {
        var encoder = new ConnectionIdEncoder(new QuicLbConfig(5, 2, 6, default, encodeLength: true), [7, 7]);

        for (int i = 0; i < 16; i++)
        {
            Assert.Equal((5 << 5) | 8, encoder.Issue()[0]);
        }
    }

    [Fact]
    public void LowFirstOctetBitsAreRandomOtherwise()
    {
        var encoder = new ConnectionIdEncoder(new QuicLbConfig(3, 2, 6), [7, 7]);
        var lowBits = new HashSet<int>();

        for (int i = 0; i < 200; i++)
        {
            byte first = encoder.Issue()[0];
            Assert.Equal(3, first >> 5);
            lowBits.Add(first & 0x1f);
        }

        Assert.True(lowBits.Count > 16, $"only {lowBits.Count} distinct values in 200 connection IDs");
    }

    [Fact]
    public void PlaintextNoncesAreRandom()
    {
        var config = new QuicLbConfig(0, 2, 8);
        var encoder = new ConnectionIdEncoder(config, [0xaa, 0xbb]);

        byte[] first = encoder.Issue();
        byte[] second = encoder.Issue();

        Assert.Equal("aabb", Hex.Of(first.AsSpan(1, 2)));
        Assert.NotEqual(Hex.Of(first.AsSpan(3)), Hex.Of(second.AsSpan(3)));
        Assert.Equal(UInt128.Zero, encoder.Issued);
    }

    [Fact]
    public void RejectsAServerIdOfTheWrongLength()
    {
        var error = Assert.Throws<QuicLbConfigException>(() => new ConnectionIdEncoder(new QuicLbConfig(4, 3, 5), [1, 2]));

        Assert.Equal("serverId", error.ParamName);
        Assert.Equal("serverId is 2 octets; config 4 needs exactly 3.", error.Reason);
    }

    [Fact]
    public void RejectsAShortDestinationAndAWrongNonce()
    {
        var encoder = new ConnectionIdEncoder(new QuicLbConfig(0, 3, 5), [1, 2, 3]);

        Assert.Throws<ArgumentException>(() => encoder.Issue(new byte[8]));
        Assert.Throws<ArgumentException>(() => encoder.Encode(new byte[4], new byte[9]));
    }
}
