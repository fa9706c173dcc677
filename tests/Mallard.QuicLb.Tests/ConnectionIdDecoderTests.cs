namespace Mallard.QuicLb.Tests;

public class ConnectionIdDecoderTests
{
    private static readonly byte[] Key = Hex.Bytes("fdf726a9893ec05c0632d3956680baf0");

    [Fact]
    public void HoldsSevenConfigurationsAtOnce()
    {
        var configs = Enumerable.Range(0, 7)
            .Select(id => new QuicLbConfig(id, 1 + id, 4 + id, id % 2 == 0 ? Key : default))
            .ToList();
        var decoder = new ConnectionIdDecoder(configs);

        foreach (QuicLbConfig config in configs)
        {
            byte[] serverId = Enumerable.Repeat((byte)(0x10 + config.ConfigId), config.ServerIdLength).ToArray();
            byte[] connectionId = new ConnectionIdEncoder(config, serverId).Issue();

            QuicLbDecodeResult result = decoder.Decode(connectionId);

            Assert.Equal(config.ConfigId, result.ConfigId);
            Assert.Equal(new ServerId(serverId), result.ServerId);
            Assert.Equal(config.ConnectionIdLength, decoder.GetConnectionIdLength(connectionId[0]));
        }

        Assert.Equal(7, decoder.Configs.Count());
    }

    [Fact]
    public void RejectsTwoConfigurationsWithOneId()
    {
        var error = Assert.Throws<QuicLbConfigException>(() => new ConnectionIdDecoder([new QuicLbConfig(2, 4, 4), new QuicLbConfig(2, 5, 5)]));

        Assert.Equal("configId 2 appears twice; each config ID can hold one configuration.", error.Reason);
    }

    [Fact]
    public void ReportsEachUnroutableReason()
    {
        var decoder = new ConnectionIdDecoder([new QuicLbConfig(1, 4, 4)]);

        Assert.Equal(UnroutableReason.TooShort, decoder.Decode([]).Reason);
        Assert.Equal(UnroutableReason.UnroutableConfigId, decoder.Decode(Hex.Bytes("e7000000000000000000")).Reason);
        Assert.Equal(UnroutableReason.UnknownConfigId, decoder.Decode(Hex.Bytes("08000000000000000000")).Reason);
        Assert.Equal(UnroutableReason.TooShort, decoder.Decode(Hex.Bytes("2841414141000000")).Reason);
        Assert.Equal(UnroutableReason.None, decoder.Decode(Hex.Bytes("284141414100000000")).Reason);
        Assert.Equal(-1, decoder.GetConnectionIdLength(0x00));
        Assert.Equal(9, decoder.GetConnectionIdLength(0x3f));
    }

    [Fact]
    public void IgnoresOctetsAfterTheConnectionId()
    {
        var decoder = new ConnectionIdDecoder([new QuicLbConfig(0, 3, 4, Key)]);

        QuicLbDecodeResult result = decoder.Decode(Hex.Bytes("0767947d29be054a" + "ffeeddccbbaa99887766554433221100"));

        Assert.Equal("31441a", result.ServerId.ToString());
    }

    [Fact]
    public void EveryTruncatedPrefixIsTooShortAndNeverThrows()
    {
        var configs = new[]
        {
            new QuicLbConfig(0, 3, 4),
            new QuicLbConfig(4, 15, 4),
            new QuicLbConfig(5, 1, 18),
            new QuicLbConfig(1, 10, 5, Key),
            new QuicLbConfig(2, 8, 8, Key),
            new QuicLbConfig(3, 9, 10, Key),
        };
        var decoder = new ConnectionIdDecoder(configs);
        var nonce = new byte[QuicLbConfig.MaxNonceLength];

        foreach (QuicLbConfig config in configs)
        {
            byte[] connectionId = new ConnectionIdEncoder(config, new byte[config.ServerIdLength]).Issue();
            for (int length = 0; length < connectionId.Length; length++)
            {
                ReadOnlySpan<byte> prefix = connectionId.AsSpan(0, length);
                Assert.Equal(UnroutableReason.TooShort, decoder.Decode(prefix).Reason);
                Assert.Equal(UnroutableReason.TooShort, decoder.DecodeWithNonce(prefix, nonce, out int nonceLength).Reason);
                Assert.Equal(0, nonceLength);
            }
        }
    }

    [Fact]
    public void RandomBytesNeverThrow()
    {
        var decoder = new ConnectionIdDecoder([
            new QuicLbConfig(0, 3, 4), new QuicLbConfig(1, 10, 5, Key), new QuicLbConfig(2, 8, 8, Key), new QuicLbConfig(3, 15, 4, Key)]);
        var random = new Random(1234);
        var buffer = new byte[64];
        var nonce = new byte[QuicLbConfig.MaxNonceLength];
        var reasons = new HashSet<UnroutableReason>();

        for (int i = 0; i < 100_000; i++)
        {
            int length = random.Next(0, buffer.Length + 1);
            random.NextBytes(buffer);
            QuicLbDecodeResult result = decoder.Decode(buffer.AsSpan(0, length));
            decoder.DecodeWithNonce(buffer.AsSpan(0, length), nonce, out _);
            reasons.Add(result.Reason);
            Assert.Equal(result.IsRoutable, result.ServerId.Length > 0);
        }

        Assert.Equal(4, reasons.Count);
    }
}
