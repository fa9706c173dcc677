using System.Buffers.Binary;

namespace Mallard.Quic.Packets;

/// <summary>
/// Writes the version-independent start of a long header (RFC 8999 section 5.1): the first octet,
/// the version, and the destination and source connection IDs, each after its length octet.
/// </summary>
internal static class LongHeaderWriter
{
    /// <summary>Writes the fields into <paramref name="destination"/> and returns how many octets that took.</summary>
    public static int Write(Span<byte> destination, byte firstOctet, uint version, ReadOnlySpan<byte> destinationConnectionId, ReadOnlySpan<byte> sourceConnectionId)
    {
        destination[0] = firstOctet;
        BinaryPrimitives.WriteUInt32BigEndian(destination[1..], version);
        int offset = 5;
        destination[offset++] = (byte)destinationConnectionId.Length;
        destinationConnectionId.CopyTo(destination[offset..]);
        offset += destinationConnectionId.Length;
        destination[offset++] = (byte)sourceConnectionId.Length;
        sourceConnectionId.CopyTo(destination[offset..]);
        return offset + sourceConnectionId.Length;
    }
}
