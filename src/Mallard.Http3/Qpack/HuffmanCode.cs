namespace Mallard.Http3.Qpack;

/// <summary>
/// The Huffman code of HPACK, which QPACK reuses for string literals (RFC 7541 section 5.2 and
/// Appendix B; RFC 9204 section 4.1.2). The code is canonical — codes of one length are
/// consecutive and follow the symbols' order — so the code lengths alone define it; the codes are
/// rebuilt from them here, and the decoder walks lengths rather than a tree.
/// </summary>
internal static class HuffmanCode
{
    /// <summary>Code lengths in bits of symbols 0–255 (RFC 7541 Appendix B); EOS, symbol 256, is the 30-bit code of all ones.</summary>
    private static ReadOnlySpan<byte> Lengths =>
    [
        13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28, 6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6, 5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12, 10, 13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6, 15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5, 6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28, 20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23, 24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24, 22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23, 21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23, 26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25, 19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27, 20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23, 26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26
    ];

    private const int MaxLength = 30;

    private static readonly uint[] Codes = new uint[256];

    // Per length: the first code, how many codes, and where its symbols start in SymbolsByCode.
    private static readonly uint[] FirstCode = new uint[MaxLength + 1];
    private static readonly int[] CountOfLength = new int[MaxLength + 1];
    private static readonly int[] FirstSymbolIndex = new int[MaxLength + 1];
    private static readonly byte[] SymbolsByCode = new byte[256];

    static HuffmanCode()
    {
        int index = 0;
        uint code = 0;
        for (int length = 1; length <= MaxLength; length++)
        {
            FirstCode[length] = code;
            FirstSymbolIndex[length] = index;
            for (int symbol = 0; symbol < 256; symbol++)
            {
                if (Lengths[symbol] == length)
                {
                    Codes[symbol] = code++;
                    SymbolsByCode[index++] = (byte)symbol;
                    CountOfLength[length]++;
                }
            }

            code <<= 1;
        }
    }

    /// <summary>The code of <paramref name="symbol"/>, right-aligned, and its length in bits.</summary>
    public static (uint Code, int Length) CodeOf(byte symbol) => (Codes[symbol], Lengths[symbol]);

    /// <summary>Bytes <paramref name="text"/> takes Huffman-coded, padding included.</summary>
    public static int EncodedLength(ReadOnlySpan<byte> text)
    {
        long bits = 0;
        foreach (byte b in text)
        {
            bits += Lengths[b];
        }

        return (int)((bits + 7) / 8);
    }

    /// <summary>Writes <paramref name="text"/> Huffman-coded into <paramref name="destination"/> (at least <see cref="EncodedLength"/> bytes), padded with the EOS prefix.</summary>
    public static int Encode(ReadOnlySpan<byte> text, Span<byte> destination)
    {
        ulong pending = 0;
        int pendingBits = 0, written = 0;
        foreach (byte b in text)
        {
            pending = (pending << Lengths[b]) | Codes[b];
            pendingBits += Lengths[b];
            while (pendingBits >= 8)
            {
                pendingBits -= 8;
                destination[written++] = (byte)(pending >> pendingBits);
            }
        }

        if (pendingBits > 0)
        {
            // Pad with the most significant bits of EOS: ones (section 5.2).
            destination[written++] = (byte)((pending << (8 - pendingBits)) | (0xFFu >> pendingBits));
        }

        return written;
    }

    /// <summary>
    /// Decodes <paramref name="encoded"/> into <paramref name="destination"/>; false when the input
    /// is not a valid Huffman string (EOS inside it, padding longer than 7 bits or not all ones —
    /// section 5.2) or the output does not fit.
    /// </summary>
    public static bool TryDecode(ReadOnlySpan<byte> encoded, Span<byte> destination, out int written)
    {
        written = 0;
        uint code = 0;
        int length = 0;
        foreach (byte b in encoded)
        {
            for (int bit = 7; bit >= 0; bit--)
            {
                code = (code << 1) | (uint)((b >> bit) & 1);
                length++;
                uint offset = code - FirstCode[length];
                if (offset < (uint)CountOfLength[length])
                {
                    if (written == destination.Length)
                    {
                        return false;
                    }

                    destination[written++] = SymbolsByCode[FirstSymbolIndex[length] + (int)offset];
                    code = 0;
                    length = 0;
                }
                else if (length == MaxLength)
                {
                    return false; // EOS, the only 30-bit code left over, or no code at all
                }
            }
        }

        // What is left must be padding: fewer than 8 bits, all ones.
        return length < 8 && code == (1u << length) - 1;
    }
}
