using System.Security.Cryptography;

namespace Mallard.Quic.Crypto;

/// <summary>
/// AES-GCM boxes for what a server hands out and later takes back — address validation tokens,
/// session tickets: a random 12-octet nonce, the ciphertext and the 16-octet tag, after an
/// optional clear prefix the caller fills (and authenticates through the associated data).
/// </summary>
internal static class SealedBox
{
    public const int NonceLength = 12;
    public const int TagLength = 16;

    /// <summary>The octets a box adds to its plaintext (besides any prefix).</summary>
    public const int Overhead = NonceLength + TagLength;

    /// <summary>Seals <paramref name="plain"/> into a new array that leaves <paramref name="prefixLength"/> clear octets at the front.</summary>
    public static byte[] Seal(AesGcm aead, ReadOnlySpan<byte> plain, ReadOnlySpan<byte> associatedData, int prefixLength = 0)
    {
        byte[] box = new byte[prefixLength + NonceLength + plain.Length + TagLength];
        Span<byte> nonce = box.AsSpan(prefixLength, NonceLength);
        RandomNumberGenerator.Fill(nonce);
        aead.Encrypt(nonce, plain, box.AsSpan(prefixLength + NonceLength, plain.Length), box.AsSpan(box.Length - TagLength), associatedData);
        return box;
    }

    /// <summary>The plaintext of a box (without its prefix), or null when it is too short or does not authenticate.</summary>
    public static byte[]? TryOpen(AesGcm aead, ReadOnlySpan<byte> box, ReadOnlySpan<byte> associatedData)
    {
        if (box.Length < Overhead)
        {
            return null;
        }

        byte[] plain = new byte[box.Length - Overhead];
        try
        {
            aead.Decrypt(box[..NonceLength], box[NonceLength..^TagLength], box[^TagLength..], plain, associatedData);
        }
        catch (AuthenticationTagMismatchException)
        {
            return null;
        }

        return plain;
    }
}
