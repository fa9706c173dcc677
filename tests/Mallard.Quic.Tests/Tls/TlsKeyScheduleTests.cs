using System.Security.Cryptography;
using Mallard.Quic.Crypto;
using Mallard.Quic.Tls;

namespace Mallard.Quic.Tests.Tls;

/// <summary>RFC 8448 section 3, "Simple 1-RTT Handshake", and RFC 9001 appendix A.5's key update.</summary>
public class TlsKeyScheduleTests
{
    private static readonly byte[] ClientPrivate = Convert.FromHexString("49af42ba7f7994852d713ef2784bcbcaa7911de26adc5642cb634540e7ea5005");
    private static readonly byte[] ServerPublic = Convert.FromHexString("c9828876112095fe66762bdbf7c672e156d6cc253b833df1dd69b1b04e751f0f");
    private static readonly byte[] HelloHash = Convert.FromHexString("860c06edc07858ee8e78f0e7428c58edd6b43f2ca3e6e95f02ed063cf0e1cad8");
    private static readonly byte[] ServerFinishedHash = Convert.FromHexString("9608102a0f1ccc6db6250b7b7e417b1a000eaada3daae4777a7686c9ff83df13");

    [Fact]
    public void TheScheduleMatchesTheRfc8448Trace()
    {
        byte[] shared = new byte[32];
        Assert.True(X25519.SharedSecret(ClientPrivate, ServerPublic, shared));
        Assert.Equal("8bd4054fb55b9d63fdfbacf9f04b9f0d35e6d63f537563efd46272900f89492d", Hex(shared));

        var schedule = new TlsKeySchedule(CipherSuite.Aes128GcmSha256);
        Assert.Equal("33ad0a1c607ec03b09e6cd9893680ce210adf300aa1f2660e1b22e10f170f92a", Hex(schedule.EarlySecret));
        Assert.Equal("6f2615a108c702c5678f54fc9dbab69716c076189c48250cebeac3576c3611ba", Hex(schedule.DeriveSecret(schedule.EarlySecret, "derived", SHA256.HashData([]))));
        Assert.Equal("1dc826e93606aa6fdc0aadc12f741b01046aa6b99f691ed221a9f0ca043fbeac", Hex(schedule.SetSharedSecret(shared)));

        (byte[] clientHandshake, byte[] serverHandshake) = schedule.HandshakeTrafficSecrets(HelloHash);
        Assert.Equal("b3eddb126e067f35a780b3abf45e2d8f3b1a950738f52e9600746a0e27a55a21", Hex(clientHandshake));
        Assert.Equal("b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38", Hex(serverHandshake));
        Assert.Equal("3fce516009c21727d0f2e4e86ee403bc", Hex(HkdfLabel.Expand(HashAlgorithmName.SHA256, serverHandshake, "key", default, 16)));
        Assert.Equal("5d313eb2671276ee13000b30", Hex(HkdfLabel.Expand(HashAlgorithmName.SHA256, serverHandshake, "iv", default, 12)));
        Assert.Equal("dbfaa693d1762c5b666af5d950258d01", Hex(HkdfLabel.Expand(HashAlgorithmName.SHA256, clientHandshake, "key", default, 16)));
        Assert.Equal("008d3b66f816ea559f96b537e885c31fc068bf492c652f01f288a1d8cdc19fc8", Hex(schedule.FinishedKey(serverHandshake)));
        Assert.Equal("b80ad01015fb2f0bd65ff7d4da5d6bf83f84821d1f87fdc7d3c75b5a7b42d9c4", Hex(schedule.FinishedKey(clientHandshake)));

        Assert.Equal("18df06843d13a08bf2a449844c5f8a478001bc4d4c627984d5a41da8d0402919", Hex(schedule.MasterSecret));
        (byte[] clientApplication, byte[] serverApplication) = schedule.ApplicationTrafficSecrets(ServerFinishedHash);
        Assert.Equal("9e40646ce79a7f9dc05af8889bce6552875afa0b06df0087f792ebb7c17504a5", Hex(clientApplication));
        Assert.Equal("a11af9f05531f856ad47116b45a950328204b4f44bfb6b3a4b4f1f3fcb631643", Hex(serverApplication));
    }

    /// <summary>RFC 9001 appendix A.5: ku = HKDF-Expand-Label(secret, "quic ku", "", 32).</summary>
    [Fact]
    public void TheQuicKeyUpdateSecretMatchesRfc9001()
    {
        var schedule = new TlsKeySchedule(CipherSuite.ChaCha20Poly1305Sha256);
        byte[] secret = Convert.FromHexString("9ac312a7f877468ebe69422748ad00a15443f18203a07d6060f688f30f21632b");

        Assert.Equal("1223504755036d556342ee9361d253421a826c9ecdf3c7148684b36b714881f9", Hex(schedule.NextTrafficSecret(secret)));
    }

    [Fact]
    public void Sha384SuitesUse48OctetSecrets()
    {
        var schedule = new TlsKeySchedule(CipherSuite.Aes256GcmSha384);
        schedule.SetSharedSecret(new byte[32]);

        Assert.Equal(48, schedule.EarlySecret.Length);
        Assert.Equal(48, schedule.HandshakeTrafficSecrets(new byte[48]).Client.Length);
        Assert.Throws<InvalidOperationException>(() => new TlsKeySchedule(CipherSuite.Aes128GcmSha256).MasterSecret);
    }

    private static string Hex(byte[] bytes) => Convert.ToHexStringLower(bytes);
}
