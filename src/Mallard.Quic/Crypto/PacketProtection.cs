using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Mallard.Quic.Crypto;

/// <summary>
/// QUIC packet protection for one direction and key phase (RFC 9001 section 5): AEAD over the
/// payload with the header as associated data and a nonce of IV XOR packet number, then header
/// protection of the first octet's low bits and the packet number with a mask sampled from the
/// ciphertext (AES-ECB or the ChaCha20 block function). Works in place.
/// </summary>
internal sealed class PacketProtection : IDisposable
{
    public const int TagLength = 16;
    public const int SampleLength = 16;

    /// <summary>The sample starts 4 octets after the packet number's first octet (RFC 9001 section 5.4.2).</summary>
    public const int SampleOffset = 4;

    private readonly AesGcm? _aesGcm;
    private readonly ChaCha20Poly1305? _chaCha;
    private readonly Aes? _headerAes;

    /// <summary>
    /// The AES-128 header protection key on AES-NI (or the Arm extension) in managed code: one
    /// block per packet costs nanoseconds, where a call into OpenSSL for it cost 1–2 µs in a busy
    /// loop and about 30 µs after the CPU idled (BENCHMARKS.md). Null for AES-256 and without
    /// hardware AES, where OpenSSL does it.
    /// </summary>
    private readonly Mallard.QuicLb.Crypto.Aes128? _headerAes128;
    private readonly byte[] _headerKey;
    private readonly byte[] _iv;

    public PacketProtection(PacketKeys keys)
    {
        ArgumentNullException.ThrowIfNull(keys);
        _iv = keys.Iv;
        _headerKey = keys.HeaderKey;
        if (keys.Suite == CipherSuite.ChaCha20Poly1305Sha256)
        {
            _chaCha = new ChaCha20Poly1305(keys.Key);
        }
        else
        {
            _aesGcm = new AesGcm(keys.Key, TagLength);
            if (keys.HeaderKey.Length == 16 && Mallard.QuicLb.Crypto.Aes128.IsHardwareAccelerated)
            {
                _headerAes128 = new Mallard.QuicLb.Crypto.Aes128(keys.HeaderKey, withDecryption: false);
            }
            else
            {
                _headerAes = Aes.Create();
                _headerAes.Key = keys.HeaderKey;
            }
        }
    }

    /// <summary>
    /// Protects a packet laid out in <paramref name="packet"/>: the header (ending with a
    /// packet number of <paramref name="packetNumberLength"/> octets at
    /// <paramref name="packetNumberOffset"/>), then <paramref name="payloadLength"/> octets of
    /// plaintext, then room for the 16-octet tag. The header's Length field, if any, must
    /// already count the tag.
    /// </summary>
    public void Protect(Span<byte> packet, int packetNumberOffset, int packetNumberLength, ulong packetNumber, int payloadLength)
    {
        int payloadOffset = packetNumberOffset + packetNumberLength;
        Span<byte> nonce = stackalloc byte[12];
        MakeNonce(packetNumber, nonce);
        Span<byte> header = packet[..payloadOffset];
        Span<byte> payload = packet.Slice(payloadOffset, payloadLength);
        Span<byte> tag = packet.Slice(payloadOffset + payloadLength, TagLength);
        if (_chaCha is not null)
        {
            _chaCha.Encrypt(nonce, payload, payload, tag, header);
        }
        else
        {
            _aesGcm!.Encrypt(nonce, payload, payload, tag, header);
        }

        ApplyHeaderProtection(packet, packetNumberOffset, packetNumberLength);
    }

    /// <summary>
    /// Removes header protection and decrypts in place. Returns false when the packet is too short
    /// to sample or fails authentication (the caller drops it, RFC 9001 section 5.5).
    /// </summary>
    /// <param name="packet">The packet, ending where its Length field says (long header) or at the datagram's end.</param>
    /// <param name="packetNumberOffset">Where the packet number starts.</param>
    /// <param name="largestPacketNumber">The largest packet number received so far in this space, or -1.</param>
    /// <param name="packetNumber">The full packet number.</param>
    /// <param name="payload">The decrypted payload, inside <paramref name="packet"/>.</param>
    public bool TryUnprotect(Span<byte> packet, int packetNumberOffset, long largestPacketNumber, out ulong packetNumber, out Range payload)
    {
        payload = default;
        return TryRemoveHeaderProtection(packet, packetNumberOffset, largestPacketNumber, out packetNumber, out int packetNumberLength)
            && TryDecrypt(packet, packetNumberOffset + packetNumberLength, packetNumber, out payload);
    }

    /// <summary>
    /// Removes header protection in place and decodes the packet number (RFC 9001 section 5.4).
    /// The header protection key survives key updates, so after this the key phase bit can
    /// choose which <see cref="TryDecrypt"/> to use (section 6).
    /// </summary>
    public bool TryRemoveHeaderProtection(Span<byte> packet, int packetNumberOffset, long largestPacketNumber, out ulong packetNumber, out int packetNumberLength)
    {
        packetNumber = 0;
        packetNumberLength = 0;
        if (packet.Length < packetNumberOffset + SampleOffset + SampleLength)
        {
            return false;
        }

        Span<byte> mask = stackalloc byte[5];
        HeaderMask(packet.Slice(packetNumberOffset + SampleOffset, SampleLength), mask);
        bool isLong = (packet[0] & 0x80) != 0;
        packet[0] ^= (byte)(mask[0] & (isLong ? 0x0f : 0x1f));
        packetNumberLength = (packet[0] & 0x03) + 1;
        ulong truncated = 0;
        for (int i = 0; i < packetNumberLength; i++)
        {
            packet[packetNumberOffset + i] ^= mask[1 + i];
            truncated = (truncated << 8) | packet[packetNumberOffset + i];
        }

        packetNumber = DecodePacketNumber(largestPacketNumber, truncated, packetNumberLength * 8);
        return true;
    }

    /// <summary>Decrypts the payload that starts at <paramref name="payloadOffset"/> in place; false when authentication fails.</summary>
    public bool TryDecrypt(Span<byte> packet, int payloadOffset, ulong packetNumber, out Range payload)
    {
        payload = default;
        int payloadLength = packet.Length - payloadOffset - TagLength;
        if (payloadLength < 0)
        {
            return false;
        }

        Span<byte> nonce = stackalloc byte[12];
        MakeNonce(packetNumber, nonce);
        Span<byte> ciphertext = packet.Slice(payloadOffset, payloadLength);
        ReadOnlySpan<byte> tag = packet.Slice(payloadOffset + payloadLength, TagLength);
        try
        {
            if (_chaCha is not null)
            {
                _chaCha.Decrypt(nonce, ciphertext, tag, ciphertext, packet[..payloadOffset]);
            }
            else
            {
                _aesGcm!.Decrypt(nonce, ciphertext, tag, ciphertext, packet[..payloadOffset]);
            }
        }
        catch (AuthenticationTagMismatchException)
        {
            return false;
        }

        payload = new Range(payloadOffset, payloadOffset + payloadLength);
        return true;
    }

    /// <summary>The full packet number closest to the next expected one (RFC 9000 appendix A.3).</summary>
    public static ulong DecodePacketNumber(long largest, ulong truncated, int bits)
    {
        long expected = largest + 1;
        long window = 1L << bits;
        long half = window / 2;
        long candidate = (expected & ~(window - 1)) | (long)truncated;
        if (candidate <= expected - half && candidate < (1L << 62) - window)
        {
            return (ulong)(candidate + window);
        }

        if (candidate > expected + half && candidate >= window)
        {
            return (ulong)(candidate - window);
        }

        return (ulong)candidate;
    }

    public void Dispose()
    {
        _aesGcm?.Dispose();
        _chaCha?.Dispose();
        _headerAes?.Dispose();
    }

    private void ApplyHeaderProtection(Span<byte> packet, int packetNumberOffset, int packetNumberLength)
    {
        Span<byte> mask = stackalloc byte[5];
        HeaderMask(packet.Slice(packetNumberOffset + SampleOffset, SampleLength), mask);
        packet[0] ^= (byte)(mask[0] & ((packet[0] & 0x80) != 0 ? 0x0f : 0x1f));
        for (int i = 0; i < packetNumberLength; i++)
        {
            packet[packetNumberOffset + i] ^= mask[1 + i];
        }
    }

    private void HeaderMask(ReadOnlySpan<byte> sample, Span<byte> mask)
    {
        if (_headerAes128 is not null)
        {
            Span<byte> encrypted = stackalloc byte[16];
            _headerAes128.Encrypt(sample, encrypted);
            encrypted[..5].CopyTo(mask);
            return;
        }

        if (_headerAes is null)
        {
            ChaCha20.HeaderProtectionMask(_headerKey, sample, mask);
            return;
        }

        Span<byte> block = stackalloc byte[16];
        _headerAes.EncryptEcb(sample, block, PaddingMode.None);
        block[..5].CopyTo(mask);
    }

    private void MakeNonce(ulong packetNumber, Span<byte> nonce)
    {
        _iv.CopyTo(nonce);
        Span<byte> number = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(number, packetNumber);
        for (int i = 0; i < 8; i++)
        {
            nonce[4 + i] ^= number[i];
        }
    }
}
