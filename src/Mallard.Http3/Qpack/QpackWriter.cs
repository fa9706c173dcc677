using System.Text;

namespace Mallard.Http3.Qpack;

/// <summary>
/// QPACK's encoder as this end uses it: field sections that reference only the static table and
/// otherwise carry literals (RFC 9204 section 4.5), so they never block the peer's decoder and no
/// encoder-stream state exists. A literal is Huffman-coded when that is shorter.
/// </summary>
internal static class QpackWriter
{
    /// <summary>A field section: the prefix (Required Insert Count 0, Base 0) and one line per field.</summary>
    public static byte[] EncodeFieldSection(IEnumerable<KeyValuePair<string, string>> fields)
    {
        var output = new List<byte>(64) { 0x00, 0x00 };
        foreach ((string name, string value) in fields)
        {
            (int exact, int nameOnly) = FindStatic(name, value);
            if (exact >= 0)
            {
                WriteInteger(output, 0xC0, 6, (ulong)exact); // indexed field line, static (section 4.5.2)
            }
            else if (nameOnly >= 0)
            {
                WriteInteger(output, 0x50, 4, (ulong)nameOnly); // literal with static name reference (section 4.5.4)
                WriteString(output, 0x00, 7, value);
            }
            else
            {
                WriteString(output, 0x20, 3, name); // literal with literal name (section 4.5.6)
                WriteString(output, 0x00, 7, value);
            }
        }

        return [.. output];
    }

    /// <summary>A prefixed integer (RFC 7541 section 5.1): <paramref name="pattern"/> holds the bits above the prefix.</summary>
    public static void WriteInteger(List<byte> output, byte pattern, int prefixBits, ulong value)
    {
        ulong max = (1UL << prefixBits) - 1;
        if (value < max)
        {
            output.Add((byte)(pattern | (byte)value));
            return;
        }

        output.Add((byte)(pattern | (byte)max));
        value -= max;
        while (value >= 0x80)
        {
            output.Add((byte)(0x80 | (value & 0x7F)));
            value >>= 7;
        }

        output.Add((byte)value);
    }

    /// <summary>A string literal whose Huffman flag sits just above a <paramref name="prefixBits"/>-bit length (section 4.1.2).</summary>
    public static void WriteString(List<byte> output, byte pattern, int prefixBits, string text)
    {
        byte[] raw = Encoding.Latin1.GetBytes(text);
        int huffmanLength = HuffmanCode.EncodedLength(raw);
        if (huffmanLength < raw.Length)
        {
            WriteInteger(output, (byte)(pattern | (1 << prefixBits)), prefixBits, (ulong)huffmanLength);
            byte[] coded = new byte[huffmanLength];
            HuffmanCode.Encode(raw, coded);
            output.AddRange(coded);
        }
        else
        {
            WriteInteger(output, pattern, prefixBits, (ulong)raw.Length);
            output.AddRange(raw);
        }
    }

    private static (int Exact, int NameOnly) FindStatic(string name, string value)
    {
        int nameOnly = -1;
        ReadOnlySpan<(string Name, string Value)> entries = QpackStaticTable.Entries;
        for (int i = 0; i < entries.Length; i++)
        {
            if (entries[i].Name == name)
            {
                if (entries[i].Value == value)
                {
                    return (i, i);
                }

                if (nameOnly < 0)
                {
                    nameOnly = i;
                }
            }
        }

        return (-1, nameOnly);
    }
}
