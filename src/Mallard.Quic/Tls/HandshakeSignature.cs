using System.Security.Cryptography;

namespace Mallard.Quic.Tls;

/// <summary>
/// The content a CertificateVerify signs (RFC 8446 section 4.4.3): 64 spaces, a context string
/// for the signer's role, a zero octet and the transcript hash, and the Finished message that
/// proves both sides saw the same transcript (section 4.4.4).
/// </summary>
internal static class HandshakeSignature
{
    /// <summary>ecdsa_secp256r1_sha256.</summary>
    public const ushort EcdsaSecp256r1Sha256 = 0x0403;

    /// <summary>ecdsa_secp384r1_sha384.</summary>
    public const ushort EcdsaSecp384r1Sha384 = 0x0503;

    /// <summary>rsa_pss_rsae_sha256.</summary>
    public const ushort RsaPssRsaeSha256 = 0x0804;

    /// <summary>The octets the server (or client) signs over <paramref name="transcriptHash"/>.</summary>
    public static byte[] SignedContent(bool server, ReadOnlySpan<byte> transcriptHash)
    {
        byte[] context = System.Text.Encoding.ASCII.GetBytes(server ? "TLS 1.3, server CertificateVerify" : "TLS 1.3, client CertificateVerify");
        byte[] content = new byte[64 + context.Length + 1 + transcriptHash.Length];
        content.AsSpan(0, 64).Fill(0x20);
        context.CopyTo(content, 64);
        transcriptHash.CopyTo(content.AsSpan(64 + context.Length + 1));
        return content;
    }

    /// <summary>Signs with an ECDSA key in the DER form TLS uses.</summary>
    public static byte[] SignEcdsa(ECDsa key, bool server, ReadOnlySpan<byte> transcriptHash, HashAlgorithmName hash) =>
        key.SignData(SignedContent(server, transcriptHash), hash, DSASignatureFormat.Rfc3279DerSequence);

    /// <summary>
    /// Verifies a CertificateVerify signature of the given scheme with the peer's certificate key.
    /// An ECDSA scheme names its curve as well as its hash (RFC 8446 section 4.2.3), so a key on
    /// another curve fails.
    /// </summary>
    public static bool Verify(ushort scheme, AsymmetricAlgorithm publicKey, bool server, ReadOnlySpan<byte> transcriptHash, ReadOnlySpan<byte> signature)
    {
        byte[] content = SignedContent(server, transcriptHash);
        return (scheme, publicKey) switch
        {
            (EcdsaSecp256r1Sha256, ECDsa ecdsa) when ecdsa.KeySize == 256 => ecdsa.VerifyData(content, signature, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence),
            (EcdsaSecp384r1Sha384, ECDsa ecdsa) when ecdsa.KeySize == 384 => ecdsa.VerifyData(content, signature, HashAlgorithmName.SHA384, DSASignatureFormat.Rfc3279DerSequence),
            (RsaPssRsaeSha256, RSA rsa) => rsa.VerifyData(content, signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pss),
            _ => false,
        };
    }

    /// <summary>A Finished message carrying <paramref name="verifyData"/>.</summary>
    public static byte[] FinishedMessage(ReadOnlySpan<byte> verifyData)
    {
        byte[] copy = verifyData.ToArray();
        return TlsWriter.Message(HandshakeType.Finished, w => w.Bytes(copy));
    }

    /// <summary>Whether a Finished message carries the expected verify data (compared in constant time).</summary>
    public static bool IsFinished(ReadOnlySpan<byte> message, ReadOnlySpan<byte> expectedVerifyData) =>
        message.Length == 4 + expectedVerifyData.Length && message[0] == (byte)HandshakeType.Finished
        && (message[1] << 16 | message[2] << 8 | message[3]) == expectedVerifyData.Length
        && CryptographicOperations.FixedTimeEquals(message[4..], expectedVerifyData);
}
