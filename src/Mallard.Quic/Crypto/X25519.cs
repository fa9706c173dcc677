namespace Mallard.Quic.Crypto;

/// <summary>
/// X25519 Diffie-Hellman (RFC 7748 section 5 and 6.1), the TLS 1.3 key exchange that .NET does
/// not offer. The Montgomery ladder runs the same operations for every scalar.
/// </summary>
internal static class X25519
{
    public const int KeyLength = 32;

    /// <summary>The u-coordinate of the base point, 9.</summary>
    public static ReadOnlySpan<byte> BasePoint => [9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];

    /// <summary>The public key of <paramref name="privateKey"/>: X25519(k, 9).</summary>
    public static void PublicKey(ReadOnlySpan<byte> privateKey, Span<byte> publicKey) => ScalarMultiply(privateKey, BasePoint, publicKey);

    /// <summary>
    /// The shared secret X25519(k, u). Returns false when it is all zeros (the peer sent a
    /// low-order point), which TLS must reject (RFC 7748 section 6.1, RFC 8446 section 7.4.2).
    /// </summary>
    public static bool SharedSecret(ReadOnlySpan<byte> privateKey, ReadOnlySpan<byte> peerPublicKey, Span<byte> secret)
    {
        ScalarMultiply(privateKey, peerPublicKey, secret);
        byte any = 0;
        for (int i = 0; i < KeyLength; i++)
        {
            any |= secret[i];
        }

        return any != 0;
    }

    /// <summary>X25519(k, u) with k clamped and u's top bit ignored, as RFC 7748 section 5 defines.</summary>
    public static void ScalarMultiply(ReadOnlySpan<byte> scalar, ReadOnlySpan<byte> u, Span<byte> result)
    {
        ArgumentOutOfRangeException.ThrowIfNotEqual(scalar.Length, KeyLength, nameof(scalar));
        ArgumentOutOfRangeException.ThrowIfNotEqual(u.Length, KeyLength, nameof(u));
        ArgumentOutOfRangeException.ThrowIfLessThan(result.Length, KeyLength, nameof(result));

        Span<byte> k = stackalloc byte[KeyLength];
        scalar.CopyTo(k);
        k[0] &= 248;
        k[31] &= 127;
        k[31] |= 64;

        FieldElement25519 x1 = FieldElement25519.FromBytes(u);
        FieldElement25519 x2 = FieldElement25519.One;
        FieldElement25519 z2 = default;
        FieldElement25519 x3 = x1;
        FieldElement25519 z3 = FieldElement25519.One;
        ulong swap = 0;
        for (int t = 254; t >= 0; t--)
        {
            ulong bit = (ulong)((k[t >> 3] >> (t & 7)) & 1);
            swap ^= bit;
            FieldElement25519.ConditionalSwap(ref x2, ref x3, swap);
            FieldElement25519.ConditionalSwap(ref z2, ref z3, swap);
            swap = bit;

            FieldElement25519 a = FieldElement25519.Add(x2, z2);
            FieldElement25519 aa = FieldElement25519.Square(a);
            FieldElement25519 b = FieldElement25519.Subtract(x2, z2);
            FieldElement25519 bb = FieldElement25519.Square(b);
            FieldElement25519 e = FieldElement25519.Subtract(aa, bb);
            FieldElement25519 c = FieldElement25519.Add(x3, z3);
            FieldElement25519 d = FieldElement25519.Subtract(x3, z3);
            FieldElement25519 da = FieldElement25519.Multiply(d, a);
            FieldElement25519 cb = FieldElement25519.Multiply(c, b);
            x3 = FieldElement25519.Square(FieldElement25519.Add(da, cb));
            z3 = FieldElement25519.Multiply(x1, FieldElement25519.Square(FieldElement25519.Subtract(da, cb)));
            x2 = FieldElement25519.Multiply(aa, bb);
            z2 = FieldElement25519.Multiply(e, FieldElement25519.Add(aa, FieldElement25519.MultiplyA24(e)));
        }

        FieldElement25519.ConditionalSwap(ref x2, ref x3, swap);
        FieldElement25519.ConditionalSwap(ref z2, ref z3, swap);
        FieldElement25519.Multiply(x2, FieldElement25519.Invert(z2)).ToBytes(result);
        k.Clear();
    }
}
