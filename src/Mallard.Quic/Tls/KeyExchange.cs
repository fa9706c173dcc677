using System.Security.Cryptography;
using Mallard.Quic.Crypto;

namespace Mallard.Quic.Tls;

/// <summary>
/// One ephemeral (EC)DHE key pair for a TLS 1.3 key_share (RFC 8446 section 4.2.8.2): x25519
/// (implemented here) or secp256r1 (uncompressed point, .NET's ECDiffieHellman).
/// </summary>
internal sealed class KeyExchange : IDisposable
{
    public const ushort X25519Group = 0x001d;
    public const ushort Secp256r1Group = 0x0017;

    private readonly byte[]? _x25519Private;
    private readonly ECDiffieHellman? _ecdh;

    private KeyExchange(ushort group)
    {
        Group = group;
        if (group == X25519Group)
        {
            _x25519Private = RandomNumberGenerator.GetBytes(X25519.KeyLength);
            PublicKey = new byte[X25519.KeyLength];
            X25519.PublicKey(_x25519Private, PublicKey);
        }
        else
        {
            _ecdh = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
            ECParameters parameters = _ecdh.ExportParameters(false);
            PublicKey = [0x04, .. parameters.Q.X!, .. parameters.Q.Y!];
        }
    }

    public ushort Group { get; }

    /// <summary>The key_exchange octets to send.</summary>
    public byte[] PublicKey { get; }

    public static bool IsSupported(ushort group) => group is X25519Group or Secp256r1Group;

    /// <summary>A new key pair for a supported group.</summary>
    public static KeyExchange Create(ushort group) =>
        IsSupported(group) ? new KeyExchange(group) : throw new ArgumentOutOfRangeException(nameof(group), $"group 0x{group:x4} is not supported");

    /// <summary>The shared secret with the peer's key_exchange octets, or null when they are not a valid key (illegal_parameter).</summary>
    public byte[]? SharedSecret(ReadOnlySpan<byte> peerPublicKey)
    {
        if (_x25519Private is not null)
        {
            byte[] secret = new byte[X25519.KeyLength];
            return peerPublicKey.Length == X25519.KeyLength && X25519.SharedSecret(_x25519Private, peerPublicKey, secret) ? secret : null;
        }

        if (peerPublicKey.Length != 65 || peerPublicKey[0] != 0x04)
        {
            return null;
        }

        try
        {
            using var peer = ECDiffieHellman.Create(new ECParameters
            {
                Curve = ECCurve.NamedCurves.nistP256,
                Q = new ECPoint { X = peerPublicKey[1..33].ToArray(), Y = peerPublicKey[33..].ToArray() },
            });
            return _ecdh!.DeriveRawSecretAgreement(peer.PublicKey);
        }
        catch (CryptographicException)
        {
            // Not a point on the curve.
            return null;
        }
    }

    public void Dispose()
    {
        if (_x25519Private is not null)
        {
            CryptographicOperations.ZeroMemory(_x25519Private);
        }

        _ecdh?.Dispose();
    }
}
