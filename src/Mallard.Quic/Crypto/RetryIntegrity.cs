using System.Security.Cryptography;
using Mallard.QuicLb.Invariants;

namespace Mallard.Quic.Crypto;

/// <summary>
/// The Retry Integrity Tag (RFC 9001 section 5.8; RFC 9369 section 3.3.3 for QUIC v2): AES-128-GCM
/// with a fixed key and nonce over the Retry Pseudo-Packet, the Original Destination Connection ID
/// (with its length) followed by the Retry packet without its tag. Proves the Retry came from
/// a server that saw the client's Initial; it is not a secret.
/// </summary>
internal static class RetryIntegrity
{
    public const int TagLength = 16;

    private static ReadOnlySpan<byte> KeyV1 => [0xbe, 0x0c, 0x69, 0x0b, 0x9f, 0x66, 0x57, 0x5a, 0x1d, 0x76, 0x6b, 0x54, 0xe3, 0x68, 0xc8, 0x4e];

    private static ReadOnlySpan<byte> NonceV1 => [0x46, 0x15, 0x99, 0xd3, 0x5d, 0x63, 0x2b, 0xf2, 0x23, 0x98, 0x25, 0xbb];

    private static ReadOnlySpan<byte> KeyV2 => [0x8f, 0xb4, 0xb0, 0x1b, 0x56, 0xac, 0x48, 0xe2, 0x60, 0xfb, 0xcb, 0xce, 0xad, 0x7c, 0xcc, 0x92];

    private static ReadOnlySpan<byte> NonceV2 => [0xd8, 0x69, 0x69, 0xbc, 0x2d, 0x7c, 0x6d, 0x99, 0x90, 0xef, 0xb0, 0x4a];

    /// <summary>Computes the tag of <paramref name="retryWithoutTag"/> into <paramref name="tag"/>.</summary>
    public static void ComputeTag(uint version, ReadOnlySpan<byte> originalDestinationConnectionId, ReadOnlySpan<byte> retryWithoutTag, Span<byte> tag)
    {
        byte[] pseudo = new byte[1 + originalDestinationConnectionId.Length + retryWithoutTag.Length];
        pseudo[0] = (byte)originalDestinationConnectionId.Length;
        originalDestinationConnectionId.CopyTo(pseudo.AsSpan(1));
        retryWithoutTag.CopyTo(pseudo.AsSpan(1 + originalDestinationConnectionId.Length));
        bool v2 = version == QuicVersion.V2;
        using var aead = new AesGcm(v2 ? KeyV2 : KeyV1, TagLength);
        aead.Encrypt(v2 ? NonceV2 : NonceV1, ReadOnlySpan<byte>.Empty, Span<byte>.Empty, tag[..TagLength], pseudo);
    }

    /// <summary>Whether the last 16 octets of <paramref name="retry"/> are its valid integrity tag (compared in constant time).</summary>
    public static bool IsValid(uint version, ReadOnlySpan<byte> originalDestinationConnectionId, ReadOnlySpan<byte> retry)
    {
        if (retry.Length < TagLength + 7)
        {
            return false;
        }

        Span<byte> expected = stackalloc byte[TagLength];
        ComputeTag(version, originalDestinationConnectionId, retry[..^TagLength], expected);
        return CryptographicOperations.FixedTimeEquals(expected, retry[^TagLength..]);
    }
}
