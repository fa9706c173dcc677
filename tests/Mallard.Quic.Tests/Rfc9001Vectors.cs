namespace Mallard.Quic.Tests;

/// <summary>
/// Reads the RFC 9001 / RFC 9369 appendix values from Vectors/rfc9001-rfc9369.txt (copied into
/// the repository; the file's header names the RFC sources): the hex block (between ~~~ fences)
/// that follows a line of text.
/// </summary>
internal static class Rfc9001Vectors
{
    private static readonly Lazy<string[]> Lines = new(() => File.ReadAllLines(Path.Combine(AppContext.BaseDirectory, "Vectors", "rfc9001-rfc9369.txt")));

    /// <summary>The hex of the <paramref name="occurrence"/>-th block after a line starting with <paramref name="marker"/> (0: QUIC v1, 1: QUIC v2).</summary>
    public static byte[] BlockAfter(string marker, int occurrence = 0)
    {
        string[] lines = Lines.Value;
        int seen = 0;
        for (int i = 0; i < lines.Length; i++)
        {
            if (!lines[i].StartsWith(marker, StringComparison.Ordinal) || seen++ != occurrence)
            {
                continue;
            }

            int start = Array.FindIndex(lines, i, l => l.StartsWith("~~~", StringComparison.Ordinal)) + 1;
            int end = Array.FindIndex(lines, start, l => l.StartsWith("~~~", StringComparison.Ordinal));
            string hex = string.Concat(lines[start..end].Select(l => l.Replace(" ", string.Empty, StringComparison.Ordinal)));
            return Convert.FromHexString(hex);
        }

        throw new InvalidOperationException($"\"{marker}\" (occurrence {occurrence}) not found in the vectors file");
    }
}
