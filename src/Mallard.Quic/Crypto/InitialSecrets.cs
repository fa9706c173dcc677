using System.Security.Cryptography;
using Mallard.QuicLb.Invariants;

namespace Mallard.Quic.Crypto;

/// <summary>
/// The secrets of Initial packets, derived from the client's first Destination Connection ID
/// with a version-specific salt (RFC 9001 section 5.2; RFC 9369 section 3.3.1 for QUIC v2).
/// </summary>
internal static class InitialSecrets
{
    private static ReadOnlySpan<byte> SaltV1 => [0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17, 0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad, 0xcc, 0xbb, 0x7f, 0x0a];

    private static ReadOnlySpan<byte> SaltV2 => [0x0d, 0xed, 0xe3, 0xde, 0xf7, 0x00, 0xa6, 0xdb, 0x81, 0x93, 0x81, 0xbe, 0x6e, 0x26, 0x9d, 0xcb, 0xf9, 0xbd, 0x2e, 0xd9];

    /// <summary>Whether Initial packets of <paramref name="version"/> can be protected here.</summary>
    public static bool Supports(uint version) => version is QuicVersion.V1 or QuicVersion.V2;

    /// <summary>HKDF-Extract(salt, dcid): the common initial secret.</summary>
    public static byte[] Initial(uint version, ReadOnlySpan<byte> destinationConnectionId)
    {
        byte[] secret = new byte[32];
        HKDF.Extract(HashAlgorithmName.SHA256, destinationConnectionId, version == QuicVersion.V2 ? SaltV2 : SaltV1, secret);
        return secret;
    }

    /// <summary>The client's and the server's Initial secrets.</summary>
    public static (byte[] Client, byte[] Server) Derive(uint version, ReadOnlySpan<byte> destinationConnectionId)
    {
        byte[] initial = Initial(version, destinationConnectionId);
        return (HkdfLabel.Expand(HashAlgorithmName.SHA256, initial, "client in", default, 32),
                HkdfLabel.Expand(HashAlgorithmName.SHA256, initial, "server in", default, 32));
    }
}
