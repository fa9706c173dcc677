using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace Mallard.Quic.Crypto;

/// <summary>
/// The few libsodium 1.0.22 functions Mallard.Quic needs that .NET lacks: X25519 (RFC 7748) and
/// the raw ChaCha20 stream (RFC 8439) for header protection. The native library comes with
/// NSec.Cryptography's package. They replaced hand-written code that a same-run benchmark found
/// 6.8× (X25519) and 3.6× (the ChaCha20 mask) slower (BENCHMARKS.md).
/// </summary>
internal static unsafe partial class Libsodium
{
    private const string Library = "libsodium";

    static Libsodium()
    {
        // Thread-safe and idempotent; must run before any other call (libsodium's documentation).
        if (sodium_init() < 0)
        {
            throw new InvalidOperationException("libsodium could not be initialised");
        }
    }

    /// <summary>X25519(n, p) into q; false (and q all zeros) when p is a low-order point.</summary>
    public static bool ScalarMultiply(ReadOnlySpan<byte> n, ReadOnlySpan<byte> p, Span<byte> q)
    {
        fixed (byte* qp = q, np = n, pp = p)
        {
            if (crypto_scalarmult_curve25519(qp, np, pp) == 0)
            {
                return true;
            }
        }

        q[..32].Clear();
        return false;
    }

    /// <summary>X25519(n, 9) into q.</summary>
    public static void ScalarMultiplyBase(ReadOnlySpan<byte> n, Span<byte> q)
    {
        fixed (byte* qp = q, np = n)
        {
            if (crypto_scalarmult_curve25519_base(qp, np) != 0)
            {
                throw new CryptographicException("X25519 of the base point failed");
            }
        }
    }

    /// <summary>XORs <paramref name="input"/> with the ChaCha20 key stream from block <paramref name="counter"/> into <paramref name="output"/>.</summary>
    public static void ChaCha20Xor(ReadOnlySpan<byte> input, ReadOnlySpan<byte> nonce, uint counter, ReadOnlySpan<byte> key, Span<byte> output)
    {
        fixed (byte* c = output, m = input, np = nonce, k = key)
        {
            crypto_stream_chacha20_ietf_xor_ic(c, m, (ulong)input.Length, np, counter, k);
        }
    }

    [LibraryImport(Library)]
    private static partial int sodium_init();

    [LibraryImport(Library)]
    private static partial int crypto_scalarmult_curve25519(byte* q, byte* n, byte* p);

    [LibraryImport(Library)]
    private static partial int crypto_scalarmult_curve25519_base(byte* q, byte* n);

    [LibraryImport(Library)]
    private static partial int crypto_stream_chacha20_ietf_xor_ic(byte* c, byte* m, ulong mlen, byte* n, uint ic, byte* k);
}
