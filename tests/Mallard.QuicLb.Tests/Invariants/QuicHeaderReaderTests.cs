using Mallard.QuicLb.Invariants;

namespace Mallard.QuicLb.Tests.Invariants;

public class QuicHeaderReaderTests
{
    // The start of the client Initial of RFC 9001 Appendix A.2: DCID 8394c8f03e515708, empty SCID.
    private const string Rfc9001Initial = "c000000001088394c8f03e5157080000449e7b9aec34d1b1c98dd7689fb8ec11";

    [Fact]
    public void ReadsTheRfc9001ClientInitial()
    {
        QuicHeaderError error = QuicHeaderReader.TryRead(Hex.Bytes(Rfc9001Initial), 0, out QuicPacketHeader header);

        Assert.Equal(QuicHeaderError.None, error);
        Assert.True(header.IsLongHeader);
        Assert.Equal(QuicVersion.V1, header.Version);
        Assert.Equal(QuicPacketType.Initial, header.PacketType);
        Assert.Equal("8394c8f03e515708", Hex.Of(header.DestinationConnectionId));
        Assert.True(header.SourceConnectionId.IsEmpty);
    }

    [Theory]
    [InlineData(0x00000001u, 0xc0, QuicPacketType.Initial)]
    [InlineData(0x00000001u, 0xd0, QuicPacketType.ZeroRtt)]
    [InlineData(0x00000001u, 0xe0, QuicPacketType.Handshake)]
    [InlineData(0x00000001u, 0xf0, QuicPacketType.Retry)]
    [InlineData(0x6b3343cfu, 0xd0, QuicPacketType.Initial)]
    [InlineData(0x6b3343cfu, 0xe0, QuicPacketType.ZeroRtt)]
    [InlineData(0x6b3343cfu, 0xf0, QuicPacketType.Handshake)]
    [InlineData(0x6b3343cfu, 0xc0, QuicPacketType.Retry)]
    [InlineData(0xff00001du, 0xc0, QuicPacketType.Unknown)]
    [InlineData(0x1a2a3a4au, 0xc0, QuicPacketType.Unknown)]
    public void ReadsLongHeaderTypesOfV1AndV2(uint version, int firstOctet, QuicPacketType expected)
    {
        byte[] packet = LongHeader((byte)firstOctet, version, Hex.Bytes("0102030405060708"), Hex.Bytes("aabbcc"), new byte[20]);

        Assert.Equal(QuicHeaderError.None, QuicHeaderReader.TryRead(packet, 0, out QuicPacketHeader header));
        Assert.Equal(expected, header.PacketType);
        Assert.Equal(version, header.Version);
        Assert.Equal("0102030405060708", Hex.Of(header.DestinationConnectionId));
        Assert.Equal("aabbcc", Hex.Of(header.SourceConnectionId));
    }

    [Fact]
    public void ReadsVersionNegotiation()
    {
        byte[] packet = LongHeader(0x80, 0, Hex.Bytes("0a0b"), Hex.Bytes("0c0d0e"), Hex.Bytes("000000016b3343cf1a2a3a4a"));

        Assert.Equal(QuicHeaderError.None, QuicHeaderReader.TryRead(packet, 0, out QuicPacketHeader header));
        Assert.Equal(QuicPacketType.VersionNegotiation, header.PacketType);
        Assert.Equal(3, header.SupportedVersionCount);
        Assert.Equal(QuicVersion.V1, header.GetSupportedVersion(0));
        Assert.Equal(QuicVersion.V2, header.GetSupportedVersion(1));
        Assert.True(QuicVersion.IsReservedForNegotiation(header.GetSupportedVersion(2)));
    }

    [Fact]
    public void RejectsAVersionListThatIsNotWholeVersions()
    {
        byte[] packet = LongHeader(0x80, 0, [1], [2], Hex.Bytes("000000016b"));

        Assert.Equal(QuicHeaderError.MalformedVersionList, QuicHeaderReader.TryRead(packet, 0, out _));
    }

    [Fact]
    public void AcceptsLongConnectionIdsOnlyForUnknownVersions()
    {
        byte[] longId = Enumerable.Range(0, 255).Select(i => (byte)i).ToArray();

        Assert.Equal(QuicHeaderError.None, QuicHeaderReader.TryRead(LongHeader(0xc0, 0xff000099, longId, longId, []), 0, out QuicPacketHeader header));
        Assert.Equal(255, header.DestinationConnectionId.Length);
        Assert.Equal(QuicHeaderError.None, QuicHeaderReader.TryRead(LongHeader(0x80, 0, longId, longId, []), 0, out _));
        Assert.Equal(QuicHeaderError.ConnectionIdTooLong, QuicHeaderReader.TryRead(LongHeader(0xc0, 1, new byte[21], [], []), 0, out _));
        Assert.Equal(QuicHeaderError.ConnectionIdTooLong, QuicHeaderReader.TryRead(LongHeader(0xc0, QuicVersion.V2, new byte[8], new byte[21], []), 0, out _));
        Assert.Equal(QuicHeaderError.None, QuicHeaderReader.TryRead(LongHeader(0xc0, 1, new byte[20], new byte[20], []), 0, out _));
    }

    [Fact]
    public void ReadsAShortHeaderWithTheLengthTheCallerGives()
    {
        byte[] packet = Hex.Bytes("4107c4605e4504cc4f00112233");

        Assert.Equal(QuicHeaderError.None, QuicHeaderReader.TryRead(packet, 8, out QuicPacketHeader header));
        Assert.False(header.IsLongHeader);
        Assert.Equal(QuicPacketType.OneRtt, header.PacketType);
        Assert.Equal("07c4605e4504cc4f", Hex.Of(header.DestinationConnectionId));
        Assert.Equal(QuicHeaderError.TruncatedShortHeader, QuicHeaderReader.TryRead(packet, 13, out _));
        Assert.Equal(QuicHeaderError.TruncatedShortHeader, QuicHeaderReader.TryRead(packet, -1, out _));
        Assert.Equal(QuicHeaderError.None, QuicHeaderReader.TryRead(packet, 12, out _));
    }

    [Fact]
    public void EveryTruncatedPrefixIsAnErrorNeverAnException()
    {
        byte[][] packets =
        [
            Hex.Bytes(Rfc9001Initial)[..15],
            LongHeader(0xe0, 1, new byte[20], new byte[20], []),
            LongHeader(0xc0, 0x0a0a0a0a, new byte[200], new byte[7], []),
        ];

        foreach (byte[] packet in packets)
        {
            Assert.Equal(QuicHeaderError.None, QuicHeaderReader.TryRead(packet, 0, out _));
            for (int length = 0; length < packet.Length; length++)
            {
                QuicHeaderError error = QuicHeaderReader.TryRead(packet.AsSpan(0, length), 0, out _);
                Assert.NotEqual(QuicHeaderError.None, error);
            }
        }

        // A Version Negotiation packet may list no versions; cut inside a version it is malformed.
        byte[] negotiation = LongHeader(0x80, 0, [1, 2, 3], [4, 5], Hex.Bytes("00000001"));
        for (int length = 0; length < negotiation.Length; length++)
        {
            QuicHeaderError expected = length < 12 ? QuicHeaderReader.TryRead(negotiation.AsSpan(0, length), 0, out _)
                : length == 12 ? QuicHeaderError.None : QuicHeaderError.MalformedVersionList;
            Assert.Equal(expected, QuicHeaderReader.TryRead(negotiation.AsSpan(0, length), 0, out _));
            Assert.True(length >= 12 || expected != QuicHeaderError.None);
        }

        Assert.Equal(QuicHeaderError.Empty, QuicHeaderReader.TryRead([], 0, out _));
        Assert.Equal(QuicHeaderError.TruncatedVersion, QuicHeaderReader.TryRead([0xc0, 0, 0, 0], 0, out _));
        Assert.Equal(QuicHeaderError.TruncatedConnectionIdLength, QuicHeaderReader.TryRead([0xc0, 0, 0, 0, 1], 0, out _));
        Assert.Equal(QuicHeaderError.TruncatedConnectionId, QuicHeaderReader.TryRead([0xc0, 0, 0, 0, 1, 4, 1], 0, out _));
    }

    [Fact]
    public void RandomBytesNeverThrow()
    {
        var random = new Random(8999);
        var buffer = new byte[300];
        var errors = new HashSet<QuicHeaderError>();

        for (int i = 0; i < 200_000; i++)
        {
            int length = random.Next(0, buffer.Length + 1);
            random.NextBytes(buffer);
            if (i % 3 == 0 && length > 5)
            {
                // Make known versions and short connection ID lengths common enough to matter.
                buffer[1] = 0; buffer[2] = 0; buffer[3] = 0; buffer[4] = (byte)(i % 2);
                buffer[5] = (byte)random.Next(0, 24);
            }

            errors.Add(QuicHeaderReader.TryRead(buffer.AsSpan(0, length), random.Next(-1, 21), out _));
        }

        Assert.Contains(QuicHeaderError.None, errors);
        Assert.Contains(QuicHeaderError.TruncatedConnectionId, errors);
        Assert.Contains(QuicHeaderError.ConnectionIdTooLong, errors);
    }

    private static byte[] LongHeader(byte first, uint version, byte[] destination, byte[] source, byte[] rest)
    {
        var packet = new List<byte> { first, (byte)(version >> 24), (byte)(version >> 16), (byte)(version >> 8), (byte)version };
        packet.Add((byte)destination.Length);
        packet.AddRange(destination);
        packet.Add((byte)source.Length);
        packet.AddRange(source);
        packet.AddRange(rest);
        return [.. packet];
    }
}
