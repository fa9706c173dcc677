namespace Mallard.Http3.Frames;

/// <summary>QUIC's variable-length integers (RFC 9000 section 16), which HTTP/3 frames are built of.</summary>
internal static class VarInt
{
    public const long Max = (1L << 62) - 1;

    public static int Length(long value) => value switch
    {
        < 0x40 => 1,
        < 0x4000 => 2,
        < 0x4000_0000 => 4,
        _ => 8,
    };

    public static int Write(Span<byte> destination, long value)
    {
        int length = Length(value);
        ulong v = (ulong)value;
        for (int i = length - 1; i >= 0; i--)
        {
            destination[i] = (byte)v;
            v >>= 8;
        }

        destination[0] |= length switch { 1 => 0x00, 2 => 0x40, 4 => 0x80, _ => 0xC0 };
        return length;
    }

    /// <summary>A frame's header (type and length) followed by its payload.</summary>
    public static byte[] Frame(long type, ReadOnlySpan<byte> payload)
    {
        byte[] frame = new byte[Length(type) + Length(payload.Length) + payload.Length];
        int at = Write(frame, type);
        at += Write(frame.AsSpan(at), payload.Length);
        payload.CopyTo(frame.AsSpan(at));
        return frame;
    }
}
