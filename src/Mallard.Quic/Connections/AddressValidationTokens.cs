using System.Buffers.Binary;
using System.Net;
using System.Security.Cryptography;
using Mallard.Quic.Crypto;

namespace Mallard.Quic.Connections;

/// <summary>
/// Address validation tokens (RFC 9000 section 8.1): sealed with AES-GCM under a key only this
/// server knows, with the wall-clock time (Unix microseconds) they were made. A Retry token is bound to the client's address and
/// port and carries the original and the Retry's connection IDs (sections 8.1.2, 7.3); a
/// NEW_TOKEN token is bound to the IP address only, because the next connection comes from a
/// new port, and lives longer (section 8.1.3). The kind travels in clear in the first octet and
/// is authenticated with the address.
/// </summary>
internal sealed class AddressValidationTokens : IDisposable
{
    private const byte RetryKind = 1;
    private const byte NewTokenKind = 2;

    private readonly AesGcm _aead;

    public AddressValidationTokens(byte[] key) => _aead = new AesGcm(key.AsSpan(0, 32), SealedBox.TagLength);

    /// <summary>How long a Retry token is accepted, in microseconds.</summary>
    public long RetryLifetime { get; init; } = 10_000_000;

    /// <summary>How long a NEW_TOKEN token is accepted, in microseconds.</summary>
    public long NewTokenLifetime { get; init; } = 24L * 3600 * 1_000_000;

    public byte[] CreateRetryToken(SocketAddress client, long now, ReadOnlySpan<byte> originalDestinationConnectionId, ReadOnlySpan<byte> retrySourceConnectionId) =>
        Seal(RetryKind, client, [.. Timestamp(now), (byte)originalDestinationConnectionId.Length, .. originalDestinationConnectionId, (byte)retrySourceConnectionId.Length, .. retrySourceConnectionId]);

    public byte[] CreateNewToken(SocketAddress client, long now) => Seal(NewTokenKind, client, Timestamp(now));

    /// <summary>Opens a token from <paramref name="client"/>; the connection IDs are set for a Retry token, and null for a NEW_TOKEN one.</summary>
    public bool TryValidate(ReadOnlySpan<byte> token, SocketAddress client, long now, out byte[]? originalDestinationConnectionId, out byte[]? retrySourceConnectionId)
    {
        originalDestinationConnectionId = null;
        retrySourceConnectionId = null;
        if (token.Length < 1 + SealedBox.Overhead + 8 || token[0] is not (RetryKind or NewTokenKind))
        {
            return false;
        }

        byte kind = token[0];
        if (SealedBox.TryOpen(_aead, token[1..], AssociatedData(kind, client)) is not byte[] plain)
        {
            return false;
        }

        long made = BinaryPrimitives.ReadInt64BigEndian(plain);
        if (kind == NewTokenKind)
        {
            return now - made <= NewTokenLifetime && now >= made;
        }

        if (now - made > RetryLifetime || now < made)
        {
            return false;
        }

        int offset = 8;
        originalDestinationConnectionId = plain.AsSpan(offset + 1, plain[offset]).ToArray();
        offset += 1 + plain[offset];
        retrySourceConnectionId = plain.AsSpan(offset + 1, plain[offset]).ToArray();
        return true;
    }

    public void Dispose() => _aead.Dispose();

    private static byte[] Timestamp(long now)
    {
        byte[] bytes = new byte[8];
        BinaryPrimitives.WriteInt64BigEndian(bytes, now);
        return bytes;
    }

    /// <summary>The kind, then the whole socket address for Retry or only the IP address for NEW_TOKEN.</summary>
    private static byte[] AssociatedData(byte kind, SocketAddress client)
    {
        ReadOnlySpan<byte> address = client.Buffer.Span[..client.Size];
        if (kind == NewTokenKind)
        {
            // sockaddr_in keeps the IPv4 address at octets 4-7, sockaddr_in6 the IPv6 one at 8-23.
            address = client.Family == System.Net.Sockets.AddressFamily.InterNetworkV6 && address.Length >= 24 ? address[8..24]
                : address.Length >= 8 ? address[4..8] : address;
        }

        return [kind, .. address];
    }

    private byte[] Seal(byte kind, SocketAddress client, byte[] plain)
    {
        byte[] token = SealedBox.Seal(_aead, plain, AssociatedData(kind, client), prefixLength: 1);
        token[0] = kind; // in clear, and authenticated as the first octet of the associated data
        return token;
    }
}
