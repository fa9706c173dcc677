using System.Buffers.Binary;
using System.Net;
using System.Security.Cryptography;

namespace Mallard.Quic.Connections;

/// <summary>
/// Address validation tokens (RFC 9000 section 8.1): sealed with AES-GCM under a key only this
/// server knows, bound to the client's address, with the time they were made. A Retry token also
/// carries the original and the Retry's connection IDs (section 8.1.2, 7.3); a NEW_TOKEN token
/// carries none and lives longer (section 8.1.3).
/// </summary>
internal sealed class AddressValidationTokens : IDisposable
{
    private const byte RetryKind = 1;
    private const byte NewTokenKind = 2;
    private const int NonceLength = 12;
    private const int TagLength = 16;

    private readonly AesGcm _aead;

    public AddressValidationTokens(byte[] key) => _aead = new AesGcm(key.AsSpan(0, 32), TagLength);

    /// <summary>How long a Retry token is accepted, in microseconds.</summary>
    public long RetryLifetime { get; init; } = 10_000_000;

    /// <summary>How long a NEW_TOKEN token is accepted, in microseconds.</summary>
    public long NewTokenLifetime { get; init; } = 24L * 3600 * 1_000_000;

    public byte[] CreateRetryToken(SocketAddress client, long now, ReadOnlySpan<byte> originalDestinationConnectionId, ReadOnlySpan<byte> retrySourceConnectionId) =>
        Seal(client, [RetryKind, .. Timestamp(now), (byte)originalDestinationConnectionId.Length, .. originalDestinationConnectionId, (byte)retrySourceConnectionId.Length, .. retrySourceConnectionId]);

    public byte[] CreateNewToken(SocketAddress client, long now) => Seal(client, [NewTokenKind, .. Timestamp(now)]);

    /// <summary>Opens a token from <paramref name="client"/>; the connection IDs are set for a Retry token, and null for a NEW_TOKEN one.</summary>
    public bool TryValidate(ReadOnlySpan<byte> token, SocketAddress client, long now, out byte[]? originalDestinationConnectionId, out byte[]? retrySourceConnectionId)
    {
        originalDestinationConnectionId = null;
        retrySourceConnectionId = null;
        if (token.Length < NonceLength + TagLength + 9)
        {
            return false;
        }

        byte[] plain = new byte[token.Length - NonceLength - TagLength];
        try
        {
            _aead.Decrypt(token[..NonceLength], token[NonceLength..^TagLength], token[^TagLength..], plain, Address(client));
        }
        catch (AuthenticationTagMismatchException)
        {
            return false;
        }

        long made = BinaryPrimitives.ReadInt64BigEndian(plain.AsSpan(1));
        if (plain[0] == NewTokenKind)
        {
            return now - made <= NewTokenLifetime && now >= made;
        }

        if (plain[0] != RetryKind || now - made > RetryLifetime || now < made)
        {
            return false;
        }

        int offset = 9;
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

    private static ReadOnlySpan<byte> Address(SocketAddress address) => address.Buffer.Span[..address.Size];

    private byte[] Seal(SocketAddress client, byte[] plain)
    {
        byte[] token = new byte[NonceLength + plain.Length + TagLength];
        RandomNumberGenerator.Fill(token.AsSpan(0, NonceLength));
        _aead.Encrypt(token.AsSpan(0, NonceLength), plain, token.AsSpan(NonceLength, plain.Length), token.AsSpan(NonceLength + plain.Length), Address(client));
        return token;
    }
}
