using System.Buffers.Binary;

namespace Mallard.Quic.Packets;

/// <summary>
/// Splits a datagram into its QUIC v1/v2 packets and finds, for each, the connection IDs, the
/// token, the packet number offset and the end, without keys (RFC 9000 section 17; QUIC v2
/// type bits from RFC 9369 section 3.2). Never throws: a malformed packet ends the datagram's
/// processing, and the packets before it stand (section 12.2).
/// </summary>
internal static class ProtectedPacketReader
{
    public const uint Version1 = 0x00000001;
    public const uint Version2 = 0x6b3343cf;
    private const int MaxConnectionIdLength = 20;

    /// <summary>
    /// Reads the packet that starts at <paramref name="start"/>. Short headers take the
    /// endpoint's own connection ID length and run to the end of the datagram.
    /// </summary>
    public static bool TryRead(ReadOnlySpan<byte> datagram, int start, int shortHeaderConnectionIdLength, out ProtectedPacket packet)
    {
        packet = default;
        ReadOnlySpan<byte> data = datagram[start..];
        if (data.IsEmpty)
        {
            return false;
        }

        byte first = data[0];
        if ((first & 0x80) == 0)
        {
            int pnOffset = 1 + shortHeaderConnectionIdLength;
            if ((first & 0x40) == 0 || data.Length < pnOffset + 1)
            {
                return false;
            }

            packet = new ProtectedPacket(PacketForm.OneRtt, 0, new Range(start + 1, start + pnOffset), default, default, start + pnOffset, datagram.Length);
            return true;
        }

        if (data.Length < 7)
        {
            return false;
        }

        uint version = BinaryPrimitives.ReadUInt32BigEndian(data[1..]);
        int offset = 5;
        if (!ConnectionId(data, ref offset, version, out Range destination) || !ConnectionId(data, ref offset, version, out Range source))
        {
            return false;
        }

        destination = Shift(destination, start);
        source = Shift(source, start);
        if (version == 0)
        {
            packet = new ProtectedPacket(PacketForm.VersionNegotiation, 0, destination, source, default, 0, datagram.Length);
            return (data.Length - offset) % 4 == 0;
        }

        if (version is not (Version1 or Version2) || (first & 0x40) == 0)
        {
            return false;
        }

        PacketForm form = FormOf(version, (first >> 4) & 0x03);
        if (form == PacketForm.Retry)
        {
            // Token, then the 16-octet integrity tag, to the end of the datagram.
            if (data.Length - offset < 16)
            {
                return false;
            }

            packet = new ProtectedPacket(form, version, destination, source, new Range(start + offset, datagram.Length - 16), 0, datagram.Length);
            return true;
        }

        Range token = default;
        if (form == PacketForm.Initial)
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

        packet = new ProtectedPacket(form, version, destination, source, token, start + offset, start + offset + (int)length);
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

        destination[0] = (byte)(0x80 | (randomBits & 0x7f));
        BinaryPrimitives.WriteUInt32BigEndian(destination[1..], 0);
        int offset = 5;
        destination[offset++] = (byte)clientSourceConnectionId.Length;
        clientSourceConnectionId.CopyTo(destination[offset..]);
        offset += clientSourceConnectionId.Length;
        destination[offset++] = (byte)clientDestinationConnectionId.Length;
        clientDestinationConnectionId.CopyTo(destination[offset..]);
        offset += clientDestinationConnectionId.Length;
        foreach (uint version in versions)
        {
            BinaryPrimitives.WriteUInt32BigEndian(destination[offset..], version);
            offset += 4;
        }

        return offset;
    }

    private static PacketForm FormOf(uint version, int bits) => version == Version2
        ? bits switch { 0 => PacketForm.Retry, 1 => PacketForm.Initial, 2 => PacketForm.ZeroRtt, _ => PacketForm.Handshake }
        : bits switch { 0 => PacketForm.Initial, 1 => PacketForm.ZeroRtt, 2 => PacketForm.Handshake, _ => PacketForm.Retry };

    private static bool ConnectionId(ReadOnlySpan<byte> data, ref int offset, uint version, out Range range)
    {
        range = default;
        if (offset >= data.Length)
        {
            return false;
        }

        int length = data[offset];
        if ((version is Version1 or Version2 && length > MaxConnectionIdLength) || data.Length - offset - 1 < length)
        {
            return false;
        }

        range = new Range(offset + 1, offset + 1 + length);
        offset += 1 + length;
        return true;
    }

    private static Range Shift(Range range, int by) => new(range.Start.Value + by, range.End.Value + by);
}
