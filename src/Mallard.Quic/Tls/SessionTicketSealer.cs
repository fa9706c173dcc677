using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Mallard.Quic.Crypto;

namespace Mallard.Quic.Tls;

/// <summary>
/// Stateless session tickets (RFC 8446 section 4.6.1, RFC 5077's idea): the resumption state is
/// sealed with AES-256-GCM under a key derived from the listener's static key, so the ticket is
/// all a server needs to resume — any server of a fleet that shares the static key, behind
/// <c>mallard lb</c>, resumes a connection another one began, and rotating the static key
/// retires every ticket with the tokens and reset keys. Sealed: format version, cipher suite,
/// issue time (Unix milliseconds), lifetime, ticket_age_add, the PSK, the ALPN protocol, and for
/// a ticket that allows 0-RTT the server limits its early data may rely on (RFC 9000 section 7.4.1).
/// </summary>
internal sealed class SessionTicketSealer : IDisposable
{
    private const byte Version = 2;
    private static readonly byte[] AssociatedData = "mallard session ticket v1"u8.ToArray();
    private readonly AesGcm _aead;

    /// <param name="staticKey">The listener's static key; the ticket key is derived from it (HKDF, its own label), never used directly.</param>
    public SessionTicketSealer(ReadOnlySpan<byte> staticKey)
    {
        byte[] key = HKDF.Expand(HashAlgorithmName.SHA256, HKDF.Extract(HashAlgorithmName.SHA256, staticKey.ToArray()), 32, "mallard session ticket key"u8.ToArray());
        _aead = new AesGcm(key, SealedBox.TagLength);
    }

    /// <summary>The state a ticket seals, as the server reads it back; <c>EarlyDataLimits</c> is null when the ticket allows no early data, otherwise the server's limits when it was issued.</summary>
    public sealed record State(CipherSuite Suite, long IssuedAtMilliseconds, uint LifetimeSeconds, uint AgeAdd, byte[] PreSharedKey, string ApplicationProtocol, ulong[]? EarlyDataLimits = null);

    /// <summary>At most this many limits are sealed.</summary>
    private const int MaxLimits = 16;

    public byte[] Seal(State state)
    {
        byte[] protocol = Encoding.ASCII.GetBytes(state.ApplicationProtocol);
        ulong[]? limits = state.EarlyDataLimits;
        if (limits is { Length: > MaxLimits })
        {
            throw new ArgumentException($"at most {MaxLimits} early data limits", nameof(state));
        }

        int limitsLength = limits is null ? 0 : 8 * limits.Length;
        var plain = new byte[1 + 2 + 8 + 4 + 4 + 1 + state.PreSharedKey.Length + 1 + protocol.Length + 1 + limitsLength];
        int at = 0;
        plain[at++] = Version;
        BinaryPrimitives.WriteUInt16BigEndian(plain.AsSpan(at), (ushort)state.Suite);
        at += 2;
        BinaryPrimitives.WriteInt64BigEndian(plain.AsSpan(at), state.IssuedAtMilliseconds);
        at += 8;
        BinaryPrimitives.WriteUInt32BigEndian(plain.AsSpan(at), state.LifetimeSeconds);
        at += 4;
        BinaryPrimitives.WriteUInt32BigEndian(plain.AsSpan(at), state.AgeAdd);
        at += 4;
        plain[at++] = (byte)state.PreSharedKey.Length;
        state.PreSharedKey.CopyTo(plain, at);
        at += state.PreSharedKey.Length;
        plain[at++] = (byte)protocol.Length;
        protocol.CopyTo(plain, at);
        at += protocol.Length;
        plain[at++] = limits is null ? byte.MaxValue : (byte)limits.Length; // 255: no early data
        foreach (ulong limit in limits ?? [])
        {
            BinaryPrimitives.WriteUInt64BigEndian(plain.AsSpan(at), limit);
            at += 8;
        }

        byte[] ticket = SealedBox.Seal(_aead, plain, AssociatedData);
        CryptographicOperations.ZeroMemory(plain);
        return ticket;
    }

    /// <summary>The state of a ticket this key sealed, or null for anything else (forged, damaged, another key's, another format).</summary>
    public State? TryOpen(ReadOnlySpan<byte> ticket)
    {
        if (ticket.Length < SealedBox.Overhead + 22 || ticket.Length > 1024 || SealedBox.TryOpen(_aead, ticket, AssociatedData) is not byte[] plain || plain[0] != Version)
        {
            return null;
        }

        var suite = (CipherSuite)BinaryPrimitives.ReadUInt16BigEndian(plain.AsSpan(1));
        long issued = BinaryPrimitives.ReadInt64BigEndian(plain.AsSpan(3));
        uint lifetime = BinaryPrimitives.ReadUInt32BigEndian(plain.AsSpan(11));
        uint ageAdd = BinaryPrimitives.ReadUInt32BigEndian(plain.AsSpan(15));
        int at = 19;
        int pskLength = plain[at++];
        if (at + pskLength + 1 > plain.Length)
        {
            return null;
        }

        byte[] psk = plain.AsSpan(at, pskLength).ToArray();
        at += pskLength;
        int protocolLength = plain[at++];
        if (at + protocolLength + 1 > plain.Length)
        {
            return null;
        }

        string protocol = Encoding.ASCII.GetString(plain, at, protocolLength);
        at += protocolLength;
        int limitCount = plain[at++];
        ulong[]? limits = null;
        if (limitCount != byte.MaxValue)
        {
            if (limitCount > MaxLimits || at + (8 * limitCount) != plain.Length)
            {
                return null;
            }

            limits = new ulong[limitCount];
            for (int i = 0; i < limitCount; i++, at += 8)
            {
                limits[i] = BinaryPrimitives.ReadUInt64BigEndian(plain.AsSpan(at));
            }
        }
        else if (at != plain.Length)
        {
            return null;
        }

        return new State(suite, issued, lifetime, ageAdd, psk, protocol, limits);
    }

    public void Dispose() => _aead.Dispose();
}
