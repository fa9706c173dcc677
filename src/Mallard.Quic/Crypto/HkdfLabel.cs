using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace Mallard.Quic.Crypto;

/// <summary>HKDF-Expand-Label of TLS 1.3 (RFC 8446 section 7.1), which QUIC uses for all its keys (RFC 9001 section 5.1).</summary>
internal static class HkdfLabel
{
    /// <summary>HKDF-Expand(secret, HkdfLabel(length, "tls13 " + label, context), length).</summary>
    public static byte[] Expand(HashAlgorithmName hash, ReadOnlySpan<byte> secret, string label, ReadOnlySpan<byte> context, int length)
    {
        byte[] info = Info(label, context, length);
        byte[] output = new byte[length];
        HKDF.Expand(hash, secret, output, info);
        return output;
    }

    /// <summary>The serialized HkdfLabel structure (the "info" that HKDF-Expand receives).</summary>
    public static byte[] Info(string label, ReadOnlySpan<byte> context, int length)
    {
        byte[] fullLabel = Encoding.ASCII.GetBytes("tls13 " + label);
        byte[] info = new byte[2 + 1 + fullLabel.Length + 1 + context.Length];
        BinaryPrimitives.WriteUInt16BigEndian(info, (ushort)length);
        info[2] = (byte)fullLabel.Length;
        fullLabel.CopyTo(info, 3);
        info[3 + fullLabel.Length] = (byte)context.Length;
        context.CopyTo(info.AsSpan(4 + fullLabel.Length));
        return info;
    }

    /// <summary>The hash of a cipher suite.</summary>
    public static HashAlgorithmName HashOf(CipherSuite suite) =>
        suite == CipherSuite.Aes256GcmSha384 ? HashAlgorithmName.SHA384 : HashAlgorithmName.SHA256;
}
