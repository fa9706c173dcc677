using Mallard.QuicLb.Invariants;

namespace Mallard.Quic.Crypto;

/// <summary>
/// The AEAD key, IV and header protection key derived from one direction's traffic secret
/// (RFC 9001 section 5.1; QUIC v2 uses the "quicv2" labels, RFC 9369 section 3.3.2).
/// </summary>
internal sealed class PacketKeys
{
    private PacketKeys(CipherSuite suite, byte[] key, byte[] iv, byte[] headerKey)
    {
        Suite = suite;
        Key = key;
        Iv = iv;
        HeaderKey = headerKey;
    }

    public CipherSuite Suite { get; }

    public byte[] Key { get; }

    public byte[] Iv { get; }

    public byte[] HeaderKey { get; }

    /// <summary>
    /// The keys of the next key phase (RFC 9001 section 6.1): the secret is advanced with the
    /// "quic ku" label and the header protection key is kept.
    /// </summary>
    public static (PacketKeys Keys, byte[] Secret) NextPhase(CipherSuite suite, ReadOnlySpan<byte> secret, byte[] headerKey, uint version = QuicVersion.V1)
    {
        var hash = HkdfLabel.HashOf(suite);
        byte[] next = HkdfLabel.Expand(hash, secret, version == QuicVersion.V2 ? "quicv2 ku" : "quic ku", default, secret.Length);
        PacketKeys derived = FromSecret(suite, next, version);
        return (new PacketKeys(suite, derived.Key, derived.Iv, headerKey), next);
    }

    public static PacketKeys FromSecret(CipherSuite suite, ReadOnlySpan<byte> secret, uint version = QuicVersion.V1)
    {
        string prefix = version == QuicVersion.V2 ? "quicv2 " : "quic ";
        int keyLength = suite == CipherSuite.Aes128GcmSha256 ? 16 : 32;
        var hash = HkdfLabel.HashOf(suite);
        return new PacketKeys(
            suite,
            HkdfLabel.Expand(hash, secret, prefix + "key", default, keyLength),
            HkdfLabel.Expand(hash, secret, prefix + "iv", default, 12),
            HkdfLabel.Expand(hash, secret, prefix + "hp", default, keyLength));
    }
}
