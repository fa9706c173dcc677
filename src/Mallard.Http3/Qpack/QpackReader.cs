using System.Text;

namespace Mallard.Http3.Qpack;

/// <summary>
/// Reads QPACK's primitives from a buffer: prefixed integers (RFC 7541 section 5.1, RFC 9204
/// section 4.1.1) and string literals, Huffman-coded or not (section 4.1.2). Running out of input
/// is reported as <see cref="Incomplete"/> rather than thrown, because instructions on the encoder
/// stream arrive split across reads; malformed input throws <see cref="QpackException"/> with
/// <see cref="FailureCode"/>.
/// </summary>
internal ref struct QpackReader(ReadOnlySpan<byte> buffer, Http3ErrorCode failureCode)
{
    /// <summary>The largest integer accepted: QUIC's 62-bit range, which every QPACK value fits (no overflow on 64 bits).</summary>
    private const ulong MaxInteger = (1UL << 62) - 1;

    private readonly ReadOnlySpan<byte> _buffer = buffer;

    public int Position { get; private set; }

    /// <summary>Whether the last read ran out of input (nothing is consumed then).</summary>
    public bool Incomplete { get; private set; }

    public readonly Http3ErrorCode FailureCode => failureCode;

    public readonly bool AtEnd => Position == _buffer.Length;

    public readonly byte Peek() => _buffer[Position];

    /// <summary>An integer whose first byte keeps <paramref name="prefixBits"/> low bits; false (and <see cref="Incomplete"/>) when the input ends first.</summary>
    public bool TryReadInteger(int prefixBits, out ulong value)
    {
        value = 0;
        int position = Position;
        if (position >= _buffer.Length)
        {
            return Fail();
        }

        ulong mask = (1UL << prefixBits) - 1;
        value = _buffer[position++] & mask;
        if (value == mask)
        {
            int shift = 0;
            byte next;
            do
            {
                if (position >= _buffer.Length)
                {
                    return Fail();
                }

                next = _buffer[position++];
                if (shift > 56)
                {
                    throw new QpackException(failureCode, "a QPACK integer longer than 62 bits");
                }

                value += (ulong)(next & 0x7F) << shift;
                shift += 7;
            }
            while ((next & 0x80) != 0);

            if (value > MaxInteger)
            {
                throw new QpackException(failureCode, "a QPACK integer longer than 62 bits");
            }
        }

        Position = position;
        return true;
    }

    /// <summary>
    /// A string literal whose length has <paramref name="prefixBits"/> bits, preceded by its
    /// Huffman flag; at most <paramref name="maxLength"/> bytes decoded, or the section is refused.
    /// </summary>
    public bool TryReadString(int prefixBits, int maxLength, out string value)
    {
        value = "";
        int start = Position;
        if (start >= _buffer.Length)
        {
            return Fail();
        }

        bool huffman = (_buffer[start] & (1 << prefixBits)) != 0;
        if (!TryReadInteger(prefixBits, out ulong length))
        {
            return false;
        }

        if (length > (ulong)(_buffer.Length - Position))
        {
            Position = start;
            return Fail();
        }

        ReadOnlySpan<byte> raw = _buffer.Slice(Position, (int)length);
        if (huffman)
        {
            // Huffman codes are at least 5 bits, so the text is at most 8/5 of the code.
            int bound = Math.Min(maxLength, (int)Math.Min(int.MaxValue, (length * 8 / 5) + 1));
            byte[] decoded = new byte[bound];
            if (!HuffmanCode.TryDecode(raw, decoded, out int written))
            {
                throw new QpackException(failureCode, written == bound && bound == maxLength
                    ? $"a field name or value longer than {maxLength} bytes"
                    : "a malformed Huffman-coded string");
            }

            value = Encoding.Latin1.GetString(decoded, 0, written);
        }
        else
        {
            if (raw.Length > maxLength)
            {
                throw new QpackException(failureCode, $"a field name or value longer than {maxLength} bytes");
            }

            value = Encoding.Latin1.GetString(raw);
        }

        Position += (int)length;
        return true;
    }

    private bool Fail()
    {
        Incomplete = true;
        return false;
    }
}
