using System.Buffers.Binary;
using Mallard.QuicLb.Invariants;

namespace Mallard.Quic.Packets;

/// <summary>
/// Splits a datagram into its QUIC v1/v2 packets and finds, for each, the connection IDs, the
/// token, the packet number offset and the end, without keys (RFC 9000 section 17). The
/// version-invariant fields come from <see cref="QuicHeaderReader"/>, which the balancer uses
/// too; this adds the token, the Length field and the fixed bit. Never throws: a malformed
/// packet ends the datagram's processing, and the packets before it stand (section 12.2).
/// </summary>
internal static class ProtectedPacketReader
{
    /// <summary>
    /// Reads the packet that starts at <paramref name="start"/>. Short headers take the
    /// endpoint's own connection ID length and run to the end of the datagram.
    /// </summary>
    public static bool TryRead(ReadOnlySpan<byte> datagram, int start, int shortHeaderConnectionIdLength, out ProtectedPacket packet)
    {
        packet = default;
        ReadOnlySpan<byte> data = datagram[start..];
        if (QuicHeaderReader.TryRead(data, shortHeaderConnectionIdLength, out QuicPacketHeader header) != QuicHeaderError.None)
        {
            return false;
        }

        int dcidLength = header.DestinationConnectionId.Length;
        if (!header.IsLongHeader)
        {
            int pnOffset = 1 + dcidLength;
            if ((data[0] & 0x40) == 0 || data.Length < pnOffset + 1)
            {
                return false;
            }

            packet = new ProtectedPacket(QuicPacketType.OneRtt, 0, new Range(start + 1, start + pnOffset), default, default, start + pnOffset, datagram.Length);
            return true;
        }

        // Long header layout: first octet, version, DCID length and DCID, SCID length and SCID.
        var destination = new Range(start + 6, start + 6 + dcidLength);
        int offset = 7 + dcidLength + header.SourceConnectionId.Length;
        var source = new Range(start + 7 + dcidLength, start + offset);
        if (header.PacketType == QuicPacketType.VersionNegotiation)
        {
            packet = new ProtectedPacket(QuicPacketType.VersionNegotiation, 0, destination, source, default, 0, datagram.Length);
            return true;
        }

        if (header.PacketType == QuicPacketType.Unknown || (data[0] & 0x40) == 0)
        {
            return false;
        }

        if (header.PacketType == QuicPacketType.Retry)
        {
            // Token, then the 16-octet integrity tag, to the end of the datagram.
            if (data.Length - offset < 16)
            {
                return false;
            }

            packet = new ProtectedPacket(QuicPacketType.Retry, header.Version, destination, source, new Range(start + offset, datagram.Length - 16), 0, datagram.Length);
            return true;
        }

        Range token = default;
        if (header.PacketType == QuicPacketType.Initial)
        {
            if (!VariableLengthInteger.TryRead(data[offset..], out ulong tokenLength, out int size) || tokenLength > (ulong)(data.Length - offset - size))
            {
                return false;
            }

            offset += size;
            token = new Range(start + offset, start + offset + (int)tokenLength);
            offset += (int)tokenLength;
        }

        if (!VariableLengthInteger.TryRead(data[offset..], out ulong length, out int lengthSize))
        {
            return false;
        }

        offset += lengthSize;

        // The Length covers the packet number and the protected payload; it must fit in the
        // datagram and leave room for a header protection sample (4 + 16 octets).
        if (length > (ulong)(data.Length - offset) || length < 20)
        {
            return false;
        }

        packet = new ProtectedPacket(header.PacketType, header.Version, destination, source, token, start + offset, start + offset + (int)length);
        return true;
    }

    /// <summary>
    /// Writes a Version Negotiation packet answering a client's long header (RFC 9000 section 17.2.1):
    /// the client's connection IDs swapped, and the versions this endpoint supports.
    /// </summary>
    public static int WriteVersionNegotiation(Span<byte> destination, ReadOnlySpan<byte> clientDestinationConnectionId, ReadOnlySpan<byte> clientSourceConnectionId, ReadOnlySpan<uint> versions, byte randomBits)
    {
        int length = 7 + clientSourceConnectionId.Length + clientDestinationConnectionId.Length + (4 * versions.Length);
        if (destination.Length < length)
        {
            return 0;
        }

        // The client's IDs swapped: its source is our destination (RFC 8999 section 6).
        int offset = LongHeaderWriter.Write(destination, (byte)(0x80 | (randomBits & 0x7f)), QuicVersion.Negotiation, clientSourceConnectionId, clientDestinationConnectionId);
        foreach (uint version in versions)
        {
            BinaryPrimitives.WriteUInt32BigEndian(destination[offset..], version);
            offset += 4;
        }

        return offset;
    }
}
