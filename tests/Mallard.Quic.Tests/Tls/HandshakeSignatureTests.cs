using System.Security.Cryptography;
using Mallard.Quic.Crypto;
using Mallard.Quic.Tls;

namespace Mallard.Quic.Tests.Tls;

public class HandshakeSignatureTests
{
    [Fact]
    public void TheSignedContentHasTheRfc8446Layout()
    {
        byte[] hash = [.. Enumerable.Repeat((byte)0xab, 32)];

        byte[] content = HandshakeSignature.SignedContent(server: true, hash);

        Assert.Equal(64 + 33 + 1 + 32, content.Length);
        Assert.All(content[..64], b => Assert.Equal(0x20, b));
        Assert.Equal("TLS 1.3, server CertificateVerify", System.Text.Encoding.ASCII.GetString(content, 64, 33));
        Assert.Equal(0, content[97]);
        Assert.Equal(hash, content[98..]);
    }

    [Fact]
    public void EcdsaSignaturesVerifyOnlyForTheSameRoleTranscriptAndScheme()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        byte[] hash = SHA256.HashData("transcript"u8);

        byte[] signature = HandshakeSignature.SignEcdsa(key, server: true, hash, HashAlgorithmName.SHA256);

        Assert.True(HandshakeSignature.Verify(HandshakeSignature.EcdsaSecp256r1Sha256, key, server: true, hash, signature));
        Assert.False(HandshakeSignature.Verify(HandshakeSignature.EcdsaSecp256r1Sha256, key, server: false, hash, signature));
        Assert.False(HandshakeSignature.Verify(HandshakeSignature.EcdsaSecp256r1Sha256, key, server: true, SHA256.HashData("other"u8), signature));
        Assert.False(HandshakeSignature.Verify(HandshakeSignature.RsaPssRsaeSha256, key, server: true, hash, signature));
    }

    [Fact]
    public void AnEcdsaSchemeNamesItsCurve()
    {
        // A P-384 key signing with SHA-256 may not pass as ecdsa_secp256r1_sha256, nor P-256 with SHA-384 as ecdsa_secp384r1_sha384 (RFC 8446 section 4.2.3).
        using var p384 = ECDsa.Create(ECCurve.NamedCurves.nistP384);
        using var p256 = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        byte[] hash = SHA256.HashData("transcript"u8);

        Assert.False(HandshakeSignature.Verify(HandshakeSignature.EcdsaSecp256r1Sha256, p384, server: true, hash, HandshakeSignature.SignEcdsa(p384, server: true, hash, HashAlgorithmName.SHA256)));
        Assert.False(HandshakeSignature.Verify(HandshakeSignature.EcdsaSecp384r1Sha384, p256, server: true, hash, HandshakeSignature.SignEcdsa(p256, server: true, hash, HashAlgorithmName.SHA384)));
        Assert.True(HandshakeSignature.Verify(HandshakeSignature.EcdsaSecp384r1Sha384, p384, server: true, hash, HandshakeSignature.SignEcdsa(p384, server: true, hash, HashAlgorithmName.SHA384)));
    }

    [Fact]
    public void RsaPssSignaturesVerify()
    {
        using var key = RSA.Create(2048);
        byte[] hash = SHA256.HashData("transcript"u8);
        byte[] signature = key.SignData(HandshakeSignature.SignedContent(true, hash), HashAlgorithmName.SHA256, RSASignaturePadding.Pss);

        Assert.True(HandshakeSignature.Verify(HandshakeSignature.RsaPssRsaeSha256, key, server: true, hash, signature));
    }

    /// <summary>RFC 8448 section 3: the client's Finished over Hash(ClientHello..server Finished).</summary>
    [Fact]
    public void TheRfc8448ClientFinishedIsBuiltAndChecked()
    {
        var schedule = new TlsKeySchedule(CipherSuite.Aes128GcmSha256);
        byte[] clientHandshakeSecret = Convert.FromHexString("b3eddb126e067f35a780b3abf45e2d8f3b1a950738f52e9600746a0e27a55a21");
        byte[] transcript = Convert.FromHexString("9608102a0f1ccc6db6250b7b7e417b1a000eaada3daae4777a7686c9ff83df13");

        byte[] verifyData = schedule.VerifyData(clientHandshakeSecret, transcript);
        byte[] finished = HandshakeSignature.FinishedMessage(verifyData);

        Assert.Equal("14000020a8ec436d677634ae525ac1fcebe11a039ec17694fac6e98527b642f2edd5ce61", Convert.ToHexStringLower(finished));
        Assert.True(HandshakeSignature.IsFinished(finished, verifyData));
        finished[^1] ^= 1;
        Assert.False(HandshakeSignature.IsFinished(finished, verifyData));
        Assert.False(HandshakeSignature.IsFinished(finished.AsSpan(0, 20), verifyData));
    }
}
