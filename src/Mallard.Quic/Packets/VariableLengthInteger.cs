using System.Buffers.Binary;

namespace Mallard.Quic.Packets;

/// <summary>
/// QUIC variable-length integers (RFC 9000 section 16): the two high bits of the first octet
/// give the length (1, 2, 4 or 8 octets), the rest is the value, up to 2^62 - 1.
/// </summary>
internal static class VariableLengthInteger
{
    public const ulong Max = (1UL << 62) - 1;

    /// <summary>The encoded length of <paramref name="value"/>, or 0 if it is over 2^62 - 1.</summary>
    public static int EncodedLength(ulong value) => value switch
    {
        <= 63 => 1,
        <= 16_383 => 2,
        <= 1_073_741_823 => 4,
        <= Max => 8,
        _ => 0,
    };

    /// <summary>Reads one integer; false when <paramref name="source"/> ends inside it. Never throws.</summary>
    public static bool TryRead(ReadOnlySpan<byte> source, out ulong value, out int length)
    {
        value = 0;
        length = 0;
        if (source.IsEmpty)
        {
            return false;
        }

        int size = 1 << (source[0] >> 6);
        if (source.Length < size)
        {
            return false;
        }

        value = size switch
        {
            1 => source[0],
            2 => BinaryPrimitives.ReadUInt16BigEndian(source) & 0x3fffUL,
            4 => BinaryPrimitives.ReadUInt32BigEndian(source) & 0x3fff_ffffUL,
            _ => BinaryPrimitives.ReadUInt64BigEndian(source) & Max,
        };
        length = size;
        return true;
    }

    /// <summary>Writes <paramref name="value"/> in its shortest form; returns the octets written, or 0 when it does not fit or is too large.</summary>
    public static int TryWrite(Span<byte> destination, ulong value)
    {
        int size = EncodedLength(value);
        if (size == 0 || destination.Length < size)
        {
            return 0;
        }

        switch (size)
        {
            case 1:
                destination[0] = (byte)value;
                break;
            case 2:
                BinaryPrimitives.WriteUInt16BigEndian(destination, (ushort)(value | 0x4000));
                break;
            case 4:
                BinaryPrimitives.WriteUInt32BigEndian(destination, (uint)value | 0x8000_0000);
                break;
            default:
                BinaryPrimitives.WriteUInt64BigEndian(destination, value | 0xc000_0000_0000_0000);
                break;
        }

        return size;
    }
}
