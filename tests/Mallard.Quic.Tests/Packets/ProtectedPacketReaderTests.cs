using Mallard.Quic.Packets;
using Mallard.QuicLb.Invariants;

namespace Mallard.Quic.Tests.Packets;

/// <summary>The protected packets of RFC 9001 and RFC 9369 appendix A, located without keys.</summary>
public class ProtectedPacketReaderTests
{
    [Theory]
    [InlineData(0, 0x00000001u)]
    [InlineData(1, 0x6b3343cfu)]
    public void TheRfcPacketsAreLocated(int occurrence, uint version)
    {
        byte[] client = Rfc9001Vectors.BlockAfter("The resulting protected packet is", occurrence);
        byte[] server = Rfc9001Vectors.BlockAfter("The final protected packet is then", occurrence);
        byte[] retry = Rfc9001Vectors.BlockAfter("This shows a Retry packet", occurrence);

        Assert.True(ProtectedPacketReader.TryRead(client, 0, 0, out ProtectedPacket initial));
        Assert.Equal((QuicPacketType.Initial, version, 18, 1200), (initial.Form, initial.Version, initial.PacketNumberOffset, initial.End));
        Assert.Equal("8394c8f03e515708", Convert.ToHexStringLower(client[initial.DestinationConnectionId]));
        Assert.Empty(client[initial.Token]);

        Assert.True(ProtectedPacketReader.TryRead(server, 0, 0, out ProtectedPacket response));
        Assert.Equal((QuicPacketType.Initial, server.Length), (response.Form, response.End));
        Assert.Equal("f067a5502a4262b5", Convert.ToHexStringLower(server[response.SourceConnectionId]));

        Assert.True(ProtectedPacketReader.TryRead(retry, 0, 0, out ProtectedPacket retryPacket));
        Assert.Equal(QuicPacketType.Retry, retryPacket.Form);
        Assert.Equal("token"u8.ToArray(), retry[retryPacket.Token]);
    }

    [Fact]
    public void CoalescedPacketsAreReadOneAfterAnother()
    {
        byte[] server = Rfc9001Vectors.BlockAfter("The final protected packet is then");
        byte[] shortHeader = Convert.FromHexString("4cfe4189655e5cd55c41f69080575d7999c25a5bfb");
        byte[] datagram = [.. server, .. server, .. shortHeader];

        Assert.True(ProtectedPacketReader.TryRead(datagram, 0, 0, out ProtectedPacket first));
        Assert.True(ProtectedPacketReader.TryRead(datagram, first.End, 0, out ProtectedPacket second));
        Assert.True(ProtectedPacketReader.TryRead(datagram, second.End, 0, out ProtectedPacket third));

        Assert.Equal((server.Length, 2 * server.Length), (first.End, second.End));
        Assert.Equal((QuicPacketType.OneRtt, datagram.Length, 2 * server.Length + 1), (third.Form, third.End, third.PacketNumberOffset));
        Assert.False(ProtectedPacketReader.TryRead(datagram, third.End, 0, out _));
    }

    [Fact]
    public void VersionNegotiationIsWrittenWithTheConnectionIdsSwapped()
    {
        byte[] buffer = new byte[64];
        int length = ProtectedPacketReader.WriteVersionNegotiation(buffer, [1, 2, 3, 4, 5, 6, 7, 8], [9, 9], [0x00000001, 0x6b3343cf], 0x35);

        Assert.Equal("b500000000" + "020909" + "080102030405060708" + "00000001" + "6b3343cf", Convert.ToHexStringLower(buffer.AsSpan(0, length)));
        Assert.True(ProtectedPacketReader.TryRead(buffer.AsSpan(0, length), 0, 0, out ProtectedPacket packet));
        Assert.Equal(QuicPacketType.VersionNegotiation, packet.Form);
        Assert.Equal(0, ProtectedPacketReader.WriteVersionNegotiation(new byte[10], [1, 2, 3, 4, 5, 6, 7, 8], [9, 9], [1], 0));
    }

    [Fact]
    public void TruncatedAndRandomDatagramsAreRefusedWithoutThrowing()
    {
        byte[] client = Rfc9001Vectors.BlockAfter("The resulting protected packet is");
        for (int length = 0; length < 38; length++)
        {
            Assert.False(ProtectedPacketReader.TryRead(client.AsSpan(0, length), 0, 8, out _));
        }

        // A long header whose Length runs past the datagram is refused at every size.
        for (int length = 38; length < client.Length; length += 97)
        {
            Assert.False(ProtectedPacketReader.TryRead(client.AsSpan(0, length), 0, 8, out _));
        }

        var random = new Random(17);
        byte[] buffer = new byte[200];
        for (int i = 0; i < 100_000; i++)
        {
            int length = random.Next(0, buffer.Length);
            random.NextBytes(buffer.AsSpan(0, length));
            if (ProtectedPacketReader.TryRead(buffer.AsSpan(0, length), 0, 8, out ProtectedPacket packet))
            {
                Assert.InRange(packet.End, 1, length);
            }
        }
    }
}
