using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Mallard.Quic.Tls;

namespace Mallard.Quic.Tests.Tls;

public class ServerKeyCacheTests
{
    [Fact]
    public void ACertificateSeenAgainGivesTheSameKeyWithoutBeingParsed()
    {
        using X509Certificate2 certificate = TlsServerOptions.CreateSelfSignedCertificate("cache.example");
        byte[] der = certificate.RawData;
        AsymmetricAlgorithm first = ServerKeyCache.KeyOf(der, null)!;
        Assert.IsAssignableFrom<ECDsa>(first);

        // The same octets in another array: found by content.
        Assert.Same(first, ServerKeyCache.KeyOf((byte[])der.Clone(), null));

        using X509Certificate2 other = TlsServerOptions.CreateSelfSignedCertificate("other.example");
        Assert.NotSame(first, ServerKeyCache.KeyOf(other.RawData, other));
    }

    [Fact]
    public void OctetsThatAreNoCertificateAreRefusedAndNotRemembered()
    {
        byte[] garbage = [0x30, 0x03, 0x02, 0x01, 0x05];
        Assert.ThrowsAny<CryptographicException>(() => ServerKeyCache.KeyOf(garbage, null));
        Assert.ThrowsAny<CryptographicException>(() => ServerKeyCache.KeyOf(garbage, null)); // still parsed, still refused
    }

    [Fact]
    public void TheCacheStaysBounded()
    {
        using X509Certificate2 certificate = TlsServerOptions.CreateSelfSignedCertificate("bounded.example");
        for (int i = 0; i < ServerKeyCache.Capacity + 10; i++)
        {
            // Distinct keys for distinct octets (a changed signature octet), all from one parsed certificate.
            byte[] der = certificate.RawData;
            der[^1] ^= (byte)i;
            der[^2] ^= (byte)(i >> 8);
            ServerKeyCache.KeyOf(der, certificate);
        }

        Assert.InRange(ServerKeyCache.Count, 1, ServerKeyCache.Capacity);
    }
}
