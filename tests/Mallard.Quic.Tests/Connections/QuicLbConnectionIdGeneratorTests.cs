using Mallard.Quic.Connections;
using Mallard.QuicLb;

namespace Mallard.Quic.Tests.Connections;

public class QuicLbConnectionIdGeneratorTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void EveryConnectionIdCarriesTheServerIdAndIsUnique(bool encrypted)
    {
        byte[] serverId = [0x41, 0x42, 0x43, 0x44];
        var config = encrypted
            ? new QuicLbConfig(2, 4, 12, Convert.FromHexString("8f95f09245765f80256934e50c66207f"))
            : new QuicLbConfig(0, 4, 8);
        var generator = new QuicLbConnectionIdGenerator(config, serverId);
        var decoder = new ConnectionIdDecoder([config]);
        var seen = new HashSet<string>();
        for (int i = 0; i < 1_000; i++)
        {
            byte[] cid = generator.NewConnectionId();
            Assert.Equal(generator.ConnectionIdLength, cid.Length);
            QuicLbDecodeResult result = decoder.Decode(cid);
            Assert.True(result.IsRoutable);
            Assert.Equal(serverId, result.ServerId.ToArray());
            Assert.True(seen.Add(Convert.ToHexString(cid)));
        }

        // A listener issues them for every connection of the endpoint.
        Assert.Equal(config.ConnectionIdLength, generator.ConnectionIdLength);
    }
}
