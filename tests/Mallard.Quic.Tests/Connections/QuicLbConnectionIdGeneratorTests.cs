using Mallard.Quic.Connections;
using Mallard.Quic.Tests.TestSupport;
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

    [Fact]
    public void AnotherServersIdIsForeignAndOnlyThat()
    {
        var config = new QuicLbConfig(0, 4, 8);
        var generator = new QuicLbConnectionIdGenerator(config, "AAAA"u8);
        Assert.True(generator.IsForeign(new ConnectionIdEncoder(config, "BBBB"u8).Issue()));
        Assert.False(generator.IsForeign(generator.NewConnectionId()));
        Assert.False(generator.IsForeign(new ConnectionIdEncoder(new QuicLbConfig(1, 4, 8), "BBBB"u8).Issue())); // another config: not judged
        byte[] unroutable = new ConnectionIdEncoder(config, "BBBB"u8).Issue();
        unroutable[0] |= 0xe0;
        Assert.False(generator.IsForeign(unroutable));
        Assert.False(generator.IsForeign([1, 2]));
    }

    /// <summary>
    /// A server behind a 4-tuple tier, given a packet of a connection another server holds (the
    /// client's NAT rebound): it drops it instead of answering with a stateless reset, which a
    /// client of a fleet sharing the reset key would accept. Its own unknown IDs are still reset.
    /// </summary>
    [Fact]
    public void AnEndpointDropsAnotherServersPacketsWithoutAReset()
    {
        var config = new QuicLbConfig(0, 4, 8);
        ConnectionOptions options = VirtualNetwork.ServerOptions() with { ConnectionIds = new QuicLbConnectionIdGenerator(config, "AAAA"u8) };
        using var endpoint = new Endpoint(options);
        byte[] foreign = ShortHeader(new ConnectionIdEncoder(config, "BBBB"u8).Issue());
        endpoint.Receive(0, VirtualNetwork.ClientAddress, foreign);
        Assert.Equal(1, endpoint.ForeignDatagrams);
        Assert.Equal(0, endpoint.StatelessResetsSent);

        endpoint.Receive(0, VirtualNetwork.ClientAddress, ShortHeader(new ConnectionIdEncoder(config, "AAAA"u8).Issue()));
        Assert.Equal(1, endpoint.StatelessResetsSent);
    }

    private static byte[] ShortHeader(byte[] connectionId)
    {
        byte[] packet = new byte[60];
        packet.AsSpan().Fill(0x5a);
        packet[0] = 0x40;
        connectionId.CopyTo(packet, 1);
        return packet;
    }
}
