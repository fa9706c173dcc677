using System.Buffers.Binary;
using CsCheck;
using Mallard.QuicLb.Invariants;

namespace Mallard.QuicLb.Tests.Invariants;

/// <summary>Property tests (CsCheck) of the version-invariant header reader (RFC 8999).</summary>
public class QuicHeaderReaderPropertyTests
{
    [Fact]
    public void LongHeadersOfAnyVersionReadBackTheirConnectionIds()
    {
        // v1 limits connection IDs to 20 octets; other versions may use up to 255 (RFC 8999 section 5.1).
        Gen.Select(Gen.UInt, Gen.Byte.Array[0, 20], Gen.Byte.Array[0, 20], Gen.Byte.Array[0, 40], Gen.Byte[0, 0x7f]).Sample((version, destination, source, rest, low) =>
        {
            if (version == QuicVersion.Negotiation)
            {
                rest = rest[..(rest.Length / 4 * 4)];
            }

            byte[] datagram = [(byte)(0x80 | low), 0, 0, 0, 0, (byte)destination.Length, .. destination, (byte)source.Length, .. source, .. rest];
            BinaryPrimitives.WriteUInt32BigEndian(datagram.AsSpan(1), version);
            return QuicHeaderReader.TryRead(datagram, 8, out QuicPacketHeader header) == QuicHeaderError.None
                && header.IsLongHeader && header.Version == version
                && header.DestinationConnectionId.SequenceEqual(destination) && header.SourceConnectionId.SequenceEqual(source);
        }, seed: "7oPz1cQm2Wx0");
    }

    [Fact]
    public void ShortHeadersYieldTheConfiguredConnectionIdLength()
    {
        Gen.Select(Gen.Int[0, 20], Gen.Byte.Array[0, 60]).Sample((length, bytes) =>
        {
            byte[] datagram = [0x40, .. bytes];
            QuicHeaderError error = QuicHeaderReader.TryRead(datagram, length, out QuicPacketHeader header);
            return datagram.Length > length
                ? error == QuicHeaderError.None && !header.IsLongHeader && header.DestinationConnectionId.SequenceEqual(datagram.AsSpan(1, length))
                : error != QuicHeaderError.None;
        }, seed: "8qRt3dYn4Vz2");
    }

    [Fact]
    public void AnyBytesAreAHeaderOrACleanRefusal()
    {
        Gen.Select(Gen.Byte.Array[0, 80], Gen.Int[0, 20]).Sample((bytes, length) =>
        {
            QuicHeaderError error = QuicHeaderReader.TryRead(bytes, length, out QuicPacketHeader header);
            return error != QuicHeaderError.None || header.DestinationConnectionId.Length <= 255;
        }, iter: 20_000, seed: "9sUv5fAo6Xb4");
    }
}
