using System.Security.Cryptography;
using Mallard.Quic.Tls;

namespace Mallard.Quic.Tests.Tls;

/// <summary>The Certificate and CertificateVerify parsers on every truncated prefix and on random input: a refusal, never an exception.</summary>
public class MessageParserRobustnessTests
{
    [Fact]
    public void CertificateMessagesRefuseTruncationAndNoise()
    {
        using var certificate = TlsServerOptions.CreateSelfSignedCertificate();
        byte[] message = CertificateMessage.Encode([certificate.RawData, certificate.RawData]);
        Assert.Equal(2, CertificateMessage.TryParse(message)!.Count);
        for (int length = 0; length < message.Length; length++)
        {
            Assert.Null(CertificateMessage.TryParse(message.AsSpan(0, length)));
        }

        var random = new Random(3);
        for (int i = 0; i < 20_000; i++)
        {
            byte[] noise = new byte[random.Next(0, 300)];
            random.NextBytes(noise);
            CertificateMessage.TryParse(noise);
        }
    }

    [Fact]
    public void CertificateVerifyMessagesRefuseTruncationAndNoise()
    {
        byte[] signature = RandomNumberGenerator.GetBytes(71);
        byte[] message = CertificateVerifyMessage.Encode(HandshakeSignature.EcdsaSecp256r1Sha256, signature);
        Assert.True(CertificateVerifyMessage.TryParse(message, out ushort scheme, out byte[] parsed));
        Assert.Equal(HandshakeSignature.EcdsaSecp256r1Sha256, scheme);
        Assert.Equal(signature, parsed);
        for (int length = 0; length < message.Length; length++)
        {
            Assert.False(CertificateVerifyMessage.TryParse(message.AsSpan(0, length), out _, out _));
        }

        var random = new Random(4);
        for (int i = 0; i < 20_000; i++)
        {
            byte[] noise = new byte[random.Next(0, 100)];
            random.NextBytes(noise);
            CertificateVerifyMessage.TryParse(noise, out _, out _);
        }
    }

    [Fact]
    public void HandshakesFedNoiseFailWithAnAlertAndNeverThrow()
    {
        var random = new Random(5);
        for (int i = 0; i < 2_000; i++)
        {
            byte[] noise = new byte[random.Next(1, 600)];
            random.NextBytes(noise);
            noise[0] = (byte)random.Next(0, 25); // a plausible handshake type now and then
            using var server = new TlsServer(new TlsServerOptions { Certificate = Certificate, ApplicationProtocols = ["x"], TransportParameters = [] });
            if (!server.Receive(EncryptionLevel.Initial, noise))
            {
                Assert.NotNull(server.Alert);
            }
        }
    }

    private static readonly System.Security.Cryptography.X509Certificates.X509Certificate2 Certificate = TlsServerOptions.CreateSelfSignedCertificate();
}
