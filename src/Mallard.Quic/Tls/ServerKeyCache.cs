using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Mallard.Quic.Connections;

namespace Mallard.Quic.Tls;

/// <summary>
/// The public keys of server certificates seen recently, by the certificate's DER encoding, for
/// every client connection in the process. A client usually reconnects to the same few servers;
/// parsing a certificate (about 120 µs) and importing its key into OpenSSL (about 110 µs) then
/// happen once per certificate instead of once per handshake (Go's crypto/tls keeps a cache of
/// parsed certificates for the same reason). Only the key is kept: the chain is still validated
/// for every connection that asks for it.
/// </summary>
internal static class ServerKeyCache
{
    /// <summary>Certificates remembered at most; when full, the cache starts again (a server presenting many certificates costs itself, not the client's memory).</summary>
    public const int Capacity = 256;

    private static readonly ConcurrentDictionary<byte[], AsymmetricAlgorithm> Keys = new(ContentComparer.Instance);

    /// <summary>Certificates remembered now.</summary>
    public static int Count => Keys.Count;

    /// <summary>
    /// The public key of the certificate <paramref name="der"/>, from the cache or from
    /// <paramref name="certificate"/> (or a parse of <paramref name="der"/> when it is null);
    /// null when the certificate has no ECDSA or RSA key. Throws <see cref="CryptographicException"/>
    /// when it must be parsed and cannot be. The key is shared: use it under its own lock.
    /// </summary>
    public static AsymmetricAlgorithm? KeyOf(byte[] der, X509Certificate2? certificate)
    {
        if (Keys.TryGetValue(der, out AsymmetricAlgorithm? cached))
        {
            return cached;
        }

        AsymmetricAlgorithm? key;
        if (certificate is not null)
        {
            key = PublicKeyOf(certificate);
        }
        else
        {
            using X509Certificate2 parsed = X509CertificateLoader.LoadCertificate(der);
            key = PublicKeyOf(parsed);
        }

        if (key is null)
        {
            return null;
        }

        if (Keys.Count >= Capacity)
        {
            Keys.Clear(); // keys in use by a handshake stay valid: they are never disposed here
        }

        return Keys.GetOrAdd(der, key);
    }

    private static AsymmetricAlgorithm? PublicKeyOf(X509Certificate2 certificate) =>
        (AsymmetricAlgorithm?)certificate.GetECDsaPublicKey() ?? certificate.GetRSAPublicKey();
}
