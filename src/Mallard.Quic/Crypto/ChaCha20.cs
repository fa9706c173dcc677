using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;

namespace Mallard.Quic.Crypto;

/// <summary>
/// The ChaCha20 block function (RFC 8439 section 2.3). .NET offers ChaCha20-Poly1305 as an AEAD
/// but not the raw block function that QUIC header protection needs (RFC 9001 section 5.4.4).
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

        Span<uint> initial = stackalloc uint[16];
        initial[0] = 0x61707865; // "expand 32-byte k"
        initial[1] = 0x3320646e;
        initial[2] = 0x79622d32;
        initial[3] = 0x6b206574;
        for (int i = 0; i < 8; i++)
        {
            initial[4 + i] = BinaryPrimitives.ReadUInt32LittleEndian(key[(4 * i)..]);
        }

        initial[12] = counter;
        initial[13] = BinaryPrimitives.ReadUInt32LittleEndian(nonce);
        initial[14] = BinaryPrimitives.ReadUInt32LittleEndian(nonce[4..]);
        initial[15] = BinaryPrimitives.ReadUInt32LittleEndian(nonce[8..]);

        Span<uint> x = stackalloc uint[16];
        initial.CopyTo(x);
        for (int round = 0; round < 10; round++)
        {
            // A column round then a diagonal round (RFC 8439 section 2.3).
            QuarterRound(ref x[0], ref x[4], ref x[8], ref x[12]);
            QuarterRound(ref x[1], ref x[5], ref x[9], ref x[13]);
            QuarterRound(ref x[2], ref x[6], ref x[10], ref x[14]);
            QuarterRound(ref x[3], ref x[7], ref x[11], ref x[15]);
            QuarterRound(ref x[0], ref x[5], ref x[10], ref x[15]);
            QuarterRound(ref x[1], ref x[6], ref x[11], ref x[12]);
            QuarterRound(ref x[2], ref x[7], ref x[8], ref x[13]);
            QuarterRound(ref x[3], ref x[4], ref x[9], ref x[14]);
        }

        for (int i = 0; i < 16; i++)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(block[(4 * i)..], x[i] + initial[i]);
        }
    }

    /// <summary>
    /// The 5-octet header protection mask for AEAD_CHACHA20_POLY1305 (RFC 9001 section 5.4.4):
    /// the sample's first 4 octets are the block counter, the other 12 the nonce.
    /// </summary>
    public static void HeaderProtectionMask(ReadOnlySpan<byte> key, ReadOnlySpan<byte> sample, Span<byte> mask)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(sample.Length, 16, nameof(sample));
        Span<byte> block = stackalloc byte[BlockLength];
        Block(key, BinaryPrimitives.ReadUInt32LittleEndian(sample), sample.Slice(4, NonceLength), block);
        block[..5].CopyTo(mask);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void QuarterRound(ref uint a, ref uint b, ref uint c, ref uint d)
    {
        a += b;
        d = BitOperations.RotateLeft(d ^ a, 16);
        c += d;
        b = BitOperations.RotateLeft(b ^ c, 12);
        a += b;
        d = BitOperations.RotateLeft(d ^ a, 8);
        c += d;
        b = BitOperations.RotateLeft(b ^ c, 7);
    }
}
