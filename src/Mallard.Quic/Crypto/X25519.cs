namespace Mallard.Quic.Crypto;

/// <summary>
/// X25519 Diffie-Hellman (RFC 7748 sections 5 and 6.1), the TLS 1.3 key exchange that .NET does
/// not offer, computed by libsodium (constant time; the scalar is clamped and the u-coordinate's
/// top bit ignored, as section 5 defines).
/// </summary>
internal static class X25519
{
    public const int KeyLength = 32;

    /// <summary>The u-coordinate of the base point, 9.</summary>
    public static ReadOnlySpan<byte> BasePoint => [9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];

    /// <summary>The public key of <paramref name="privateKey"/>: X25519(k, 9).</summary>
    public static void PublicKey(ReadOnlySpan<byte> privateKey, Span<byte> publicKey)
    {
        Check(privateKey, BasePoint, publicKey);
        Libsodium.ScalarMultiplyBase(privateKey, publicKey);
    }

    /// <summary>
    /// The shared secret X25519(k, u). Returns false when it is all zeros (the peer sent a
    /// low-order point), which TLS must reject (RFC 7748 section 6.1, RFC 8446 section 7.4.2).
    /// </summary>
    public static bool SharedSecret(ReadOnlySpan<byte> privateKey, ReadOnlySpan<byte> peerPublicKey, Span<byte> secret)
    {
        Check(privateKey, peerPublicKey, secret);
        return Libsodium.ScalarMultiply(privateKey, peerPublicKey, secret);
    }

    /// <summary>X25519(k, u): all zeros for a low-order u.</summary>
    public static void ScalarMultiply(ReadOnlySpan<byte> scalar, ReadOnlySpan<byte> u, Span<byte> result)
    {
        Check(scalar, u, result);
        Libsodium.ScalarMultiply(scalar, u, result);
    }

    private static void Check(ReadOnlySpan<byte> scalar, ReadOnlySpan<byte> u, Span<byte> result)
    {
        ArgumentOutOfRangeException.ThrowIfNotEqual(scalar.Length, KeyLength, nameof(scalar));
        ArgumentOutOfRangeException.ThrowIfNotEqual(u.Length, KeyLength, nameof(u));
        ArgumentOutOfRangeException.ThrowIfLessThan(result.Length, KeyLength, nameof(result));
    }
}
