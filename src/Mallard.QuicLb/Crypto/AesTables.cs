namespace Mallard.QuicLb.Crypto;

/// <summary>
/// The AES S-box and its inverse (FIPS-197 section 5.1.1), computed once from the field inverse
/// and the affine transform rather than typed in, plus GF(2^8) helpers.
/// </summary>
internal static class AesTables
{
    public static readonly byte[] SBox = BuildSBox();
    public static readonly byte[] InverseSBox = BuildInverse(SBox);

    /// <summary>Multiplies by x in GF(2^8) modulo x^8 + x^4 + x^3 + x + 1.</summary>
    public static byte Times2(byte value) => (byte)((value << 1) ^ ((value >> 7) * 0x1b));

    /// <summary>Multiplies two field elements (used for key set-up and the portable cipher).</summary>
    public static byte Multiply(byte a, byte b)
    {
        byte product = 0;
        while (b != 0)
        {
            if ((b & 1) != 0)
            {
                product ^= a;
            }

            a = Times2(a);
            b >>= 1;
        }

        return product;
    }

    private static byte[] BuildSBox()
    {
        var box = new byte[256];
        for (int x = 0; x < 256; x++)
        {
            byte inverse = x == 0 ? (byte)0 : Inverse((byte)x);
            int s = inverse;
            int result = inverse;
            for (int i = 0; i < 4; i++)
            {
                s = ((s << 1) | (s >> 7)) & 0xff;
                result ^= s;
            }

            box[x] = (byte)(result ^ 0x63);
        }

        return box;
    }

    private static byte Inverse(byte x)
    {
        // x^254 = x^-1 in GF(2^8).
        byte result = 1;
        byte power = x;
        for (int e = 254; e != 0; e >>= 1)
        {
            if ((e & 1) != 0)
            {
                result = Multiply(result, power);
            }

            power = Multiply(power, power);
        }

        return result;
    }

    private static byte[] BuildInverse(byte[] box)
    {
        var inverse = new byte[256];
        for (int i = 0; i < 256; i++)
        {
            inverse[box[i]] = (byte)i;
        }

        return inverse;
    }
}
