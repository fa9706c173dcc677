using Mallard.Balancer.Health;
using Mallard.Balancer.Tests.TestSupport;
using Mallard.QuicLb.Invariants;

namespace Mallard.Balancer.Tests.Health;

public class VersionProbeTests
{
    [Theory]
    [InlineData(0u, 0x0a0a0a0au)]
    [InlineData(0xffffffffu, 0xfafafafau)]
    [InlineData(0x12345678u, 0x1a3a5a7au)]
    public void ProbeVersionsAreReserved(uint random, uint expected)
    {
        Assert.Equal(expected, VersionProbe.ReservedVersion(random));
        Assert.True(QuicVersion.IsReservedForNegotiation(expected));
    }

    [Fact]
    public void AProbeIsALongHeaderOf1200OctetsThatOnlyTheMatchingVersionNegotiationAnswers()
    {
        byte[] dcid = [1, 2, 3, 4, 5, 6, 7, 8];
        byte[] scid = [9, 10, 11, 12, 13, 14, 15, 16];
        byte[] probe = new byte[1500];
        int length = VersionProbe.Write(probe, 0x5555_5555, dcid, scid);

        Assert.Equal(1200, length);
        Assert.Equal(QuicHeaderError.None, QuicHeaderReader.TryRead(probe.AsSpan(0, length), 0, out QuicPacketHeader header));
        Assert.True(QuicVersion.IsReservedForNegotiation(header.Version));
        Assert.Equal(dcid, header.DestinationConnectionId.ToArray());

        byte[] answer = Packets.FromFixture("80 00000000 08 090a0b0c0d0e0f10 08 0102030405060708 00000001");
        Assert.True(VersionProbe.IsAnswer(answer, dcid, scid));
        Assert.False(VersionProbe.IsAnswer(answer, scid, dcid));
        Assert.False(VersionProbe.IsAnswer(answer.AsSpan(0, 10), dcid, scid));
        Assert.False(VersionProbe.IsAnswer(Packets.Initial(scid, dcid), dcid, scid));
    }
}
