using System.Buffers.Binary;

namespace Mallard.Quic.Crypto;

/// <summary>
/// The ChaCha20 block function (RFC 8439 section 2.3), computed by libsodium. .NET offers
/// ChaCha20-Poly1305 as an AEAD but not the raw key stream that QUIC header protection needs
/// (RFC 9001 section 5.4.4).
/// </summary>
internal static class ChaCha20
{
    public const int KeyLength = 32;
    public const int NonceLength = 12;
    public const int BlockLength = 64;

    /// <summary>Writes the 64-octet key-stream block for <paramref name="counter"/> into <paramref name="block"/>.</summary>
    public static void Block(ReadOnlySpan<byte> key, uint counter, ReadOnlySpan<byte> nonce, Span<byte> block)
    {
        ArgumentOutOfRangeException.ThrowIfNotEqual(key.Length, KeyLength, nameof(key));
        ArgumentOutOfRangeException.ThrowIfNotEqual(nonce.Length, NonceLength, nameof(nonce));
        ArgumentOutOfRangeException.ThrowIfLessThan(block.Length, BlockLength, nameof(block));
        Span<byte> zeros = stackalloc byte[BlockLength];
        zeros.Clear();
        Libsodium.ChaCha20Xor(zeros, nonce, counter, key, block);
    }

    /// <summary>
    /// The 5-octet header protection mask for AEAD_CHACHA20_POLY1305 (RFC 9001 section 5.4.4):
    /// the sample's first 4 octets are the block counter, the other 12 the nonce.
    /// </summary>
    public static void HeaderProtectionMask(ReadOnlySpan<byte> key, ReadOnlySpan<byte> sample, Span<byte> mask)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(sample.Length, 16, nameof(sample));
        ArgumentOutOfRangeException.ThrowIfNotEqual(key.Length, KeyLength, nameof(key));
        ArgumentOutOfRangeException.ThrowIfLessThan(mask.Length, 5, nameof(mask));
        Span<byte> zeros = stackalloc byte[5];
        zeros.Clear();
        Libsodium.ChaCha20Xor(zeros, sample.Slice(4, NonceLength), BinaryPrimitives.ReadUInt32LittleEndian(sample), key, mask[..5]);
    }
}
