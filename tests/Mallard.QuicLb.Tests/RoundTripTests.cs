namespace Mallard.QuicLb.Tests;

/// <summary>Encode then decode for every (server ID length, nonce length) pair draft-21 allows.</summary>
public class RoundTripTests
{
    public static TheoryData<int, int> AllowedLengths()
    {
        var data = new TheoryData<int, int>();
        for (int serverIdLength = QuicLbConfig.MinServerIdLength; serverIdLength <= QuicLbConfig.MaxServerIdLength; serverIdLength++)
        {
            for (int nonceLength = QuicLbConfig.MinNonceLength; serverIdLength + nonceLength <= QuicLbConfig.MaxCombinedLength; nonceLength++)
            {
                data.Add(serverIdLength, nonceLength);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(AllowedLengths))]
    public void EncryptedRoundTrip(int serverIdLength, int nonceLength) => RoundTrip(serverIdLength, nonceLength, withKey: true);

    [Theory]
    [MemberData(nameof(AllowedLengths))]
    public void PlaintextRoundTrip(int serverIdLength, int nonceLength) => RoundTrip(serverIdLength, nonceLength, withKey: false);

    [Fact]
    public void CoversOddAndEvenTotalsAndBothDecodeDepths()
    {
        var pairs = AllowedLengths().Select(row => ((int)row[0], (int)row[1])).ToList();

        Assert.Equal(120, pairs.Count);
        Assert.Contains(pairs, p => (p.Item1 + p.Item2) % 2 == 1);
        Assert.Contains(pairs, p => (p.Item1 + p.Item2) % 2 == 0 && p.Item1 + p.Item2 != 16);
        Assert.Contains(pairs, p => p.Item1 <= (p.Item1 + p.Item2) / 2);
        Assert.Contains(pairs, p => p.Item1 > (p.Item1 + p.Item2) / 2);
    }

    [Fact]
    public void EncryptionHidesTheServerId()
    {
        var random = new Random(7);
        var key = new byte[16];
        random.NextBytes(key);
        byte[] serverId = [0x41, 0x41, 0x41, 0x41];
        var encoder = new ConnectionIdEncoder(new QuicLbConfig(0, 4, 8, key), serverId);

        for (int i = 0; i < 32; i++)
        {
            byte[] connectionId = encoder.Issue();
            Assert.False(connectionId.AsSpan(1, 4).SequenceEqual(serverId));
        }
    }

    private static void RoundTrip(int serverIdLength, int nonceLength, bool withKey)
    {
        var random = new Random((serverIdLength * 100) + nonceLength + (withKey ? 10_000 : 0));
        byte[] key = new byte[16];
        random.NextBytes(key);
        int configId = random.Next(0, QuicLbConfig.MaxConfigId + 1);
        var config = new QuicLbConfig(configId, serverIdLength, nonceLength, withKey ? key : default, encodeLength: random.Next(2) == 0);

        foreach (bool hardware in new[] { true, false })
        {
            var decoder = new ConnectionIdDecoder([config], hardware);
            for (int i = 0; i < 20; i++)
            {
                byte[] serverId = new byte[serverIdLength];
                byte[] nonce = new byte[nonceLength];
                random.NextBytes(serverId);
                random.NextBytes(nonce);
                var encoder = new ConnectionIdEncoder(config, serverId, random.NextBytes, hardware);
                byte[] connectionId = new byte[config.ConnectionIdLength];
                encoder.Encode(nonce, connectionId);

                Assert.Equal(configId, connectionId[0] >> 5);
                QuicLbDecodeResult quick = decoder.Decode(connectionId);
                Assert.True(quick.IsRoutable);
                Assert.Equal(new ServerId(serverId), quick.ServerId);

                byte[] decodedNonce = new byte[QuicLbConfig.MaxNonceLength];
                QuicLbDecodeResult full = decoder.DecodeWithNonce(connectionId, decodedNonce, out int decodedNonceLength);
                Assert.Equal(quick.ServerId, full.ServerId);
                Assert.Equal(nonce, decodedNonce[..decodedNonceLength]);

                byte[] issued = encoder.Issue();
                Assert.Equal(new ServerId(serverId), decoder.Decode(issued).ServerId);
            }
        }
    }
}
