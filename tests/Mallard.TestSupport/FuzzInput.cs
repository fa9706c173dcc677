using System.Globalization;

namespace Mallard.TestSupport;

/// <summary>
/// Settings and input mutation shared by the in-process fuzz tests. The suite runs a small number
/// of iterations with a fixed seed; a long run sets <c>MALLARD_FUZZ_ITERATIONS</c> (and
/// <c>MALLARD_FUZZ_SEED</c> to vary or to reproduce), for example
/// <c>MALLARD_FUZZ_ITERATIONS=5000000 dotnet test tests/Mallard.Quic.Tests -c Release --filter Fuzz</c>.
/// A failure names the seed and iteration and prints the input in hex.
/// </summary>
public static class FuzzInput
{
    /// <summary>Iterations per fuzz target: <c>MALLARD_FUZZ_ITERATIONS</c>, or <paramref name="byDefault"/>.</summary>
    public static int Iterations(int byDefault) =>
        int.TryParse(Environment.GetEnvironmentVariable("MALLARD_FUZZ_ITERATIONS"), NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n > 0 ? n : byDefault;

    /// <summary>The seed: <c>MALLARD_FUZZ_SEED</c>, or <paramref name="byDefault"/>.</summary>
    public static int Seed(int byDefault) =>
        int.TryParse(Environment.GetEnvironmentVariable("MALLARD_FUZZ_SEED"), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int n) ? n : byDefault;

    /// <summary>
    /// A mutant of one of <paramref name="corpus"/>: bit flips, interesting octets, truncation,
    /// extension, splicing with another input, or plain random bytes (the strategies of AFL's havoc stage).
    /// </summary>
    public static byte[] Mutate(Random random, IReadOnlyList<byte[]> corpus)
    {
        byte[] input = [.. corpus[random.Next(corpus.Count)]];
        int rounds = 1 + random.Next(4);
        for (int round = 0; round < rounds; round++)
        {
            switch (random.Next(8))
            {
                case 0 when input.Length > 0:
                    input[random.Next(input.Length)] ^= (byte)(1 << random.Next(8));
                    break;
                case 1 when input.Length > 0:
                    input[random.Next(input.Length)] = Interesting[random.Next(Interesting.Length)];
                    break;
                case 2 when input.Length > 0:
                    input[random.Next(input.Length)] = (byte)random.Next(256);
                    break;
                case 3 when input.Length > 0:
                    Array.Resize(ref input, random.Next(input.Length));
                    break;
                case 4:
                    int grow = random.Next(1, 64);
                    Array.Resize(ref input, input.Length + grow);
                    random.NextBytes(input.AsSpan(input.Length - grow));
                    break;
                case 5 when input.Length > 0:
                    byte[] other = corpus[random.Next(corpus.Count)];
                    int cut = random.Next(input.Length);
                    input = [.. input.AsSpan(0, cut), .. other.AsSpan(Math.Min(cut, other.Length))];
                    break;
                case 6 when input.Length > 8:
                    int start = random.Next(input.Length - 4);
                    int length = random.Next(1, Math.Min(16, input.Length - start));
                    random.NextBytes(input.AsSpan(start, length));
                    break;
                case 7:
                    input = new byte[random.Next(0, 1500)];
                    random.NextBytes(input);
                    break;
            }
        }

        return input;
    }

    /// <summary>The failure message of an input that broke a target.</summary>
    public static string Describe(string target, int seed, int iteration, ReadOnlySpan<byte> input, Exception error) =>
        $"{target}: seed {seed}, iteration {iteration}: {error.GetType().Name}: {error.Message}\ninput ({input.Length} octets): {Convert.ToHexStringLower(input)}\n{error.StackTrace}";

    private static readonly byte[] Interesting = [0x00, 0x01, 0x3f, 0x40, 0x7f, 0x80, 0xbf, 0xc0, 0xfe, 0xff];
}
