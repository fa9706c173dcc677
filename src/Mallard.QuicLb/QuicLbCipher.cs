using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Mallard.QuicLb.Crypto;

namespace Mallard.QuicLb;

/// <summary>
/// Protects and recovers the server ID + nonce octets of one configuration (everything after the
/// first octet): a copy for plaintext configs, one AES block for 16 octets (draft-21 section
/// 5.3.1), the four-pass Feistel construction otherwise (section 5.3.2). Allocation-free.
/// </summary>
/// <remarks>
/// The Feistel halves live in <see cref="Vector128{T}"/> registers, zero beyond the half length.
/// For an odd length the middle octet is shared: its high nibble belongs to the left half and
/// its low nibble to the right half, which is what the masks express.
/// </remarks>
internal sealed class QuicLbCipher
{
    // Room for a 19-octet plaintext plus a full vector load at the right half's offset (9 + 16).
    private const int ScratchLength = 32;

    private readonly QuicLbAlgorithm _algorithm;
    private readonly Aes128? _aes;
    private readonly int _length;
    private readonly int _serverIdLength;
    private readonly int _rightOffset;
    private readonly bool _serverIdInLeftHalf;
    private readonly Vector128<byte> _serverIdMask;
    private readonly Vector128<byte> _leftMask;
    private readonly Vector128<byte> _rightMask;
    private readonly Vector128<byte> _tweak1;
    private readonly Vector128<byte> _tweak2;
    private readonly Vector128<byte> _tweak3;
    private readonly Vector128<byte> _tweak4;

    public QuicLbCipher(QuicLbConfig config, bool allowHardwareAes = true)
    {
        _algorithm = config.Algorithm;
        _length = config.ServerIdLength + config.NonceLength;
        _serverIdLength = config.ServerIdLength;
        _aes = config.HasKey ? new Aes128(config.Key, allowHardwareAes) : null;

        int half = (_length + 1) / 2;
        bool odd = (_length & 1) != 0;
        _rightOffset = _length - half;

        // With the server ID entirely in the left half, a decoder can stop after three passes.
        _serverIdInLeftHalf = _serverIdLength <= _length / 2;

        _serverIdMask = ServerId.PrefixMask(_serverIdLength);
        Span<byte> mask = stackalloc byte[16];
        mask.Clear();
        mask[..half].Fill(0xff);
        if (odd)
        {
            mask[half - 1] = 0xf0;
        }

        _leftMask = Vector128.Create((ReadOnlySpan<byte>)mask);
        mask[half - 1] = 0xff;
        if (odd)
        {
            mask[0] = 0x0f;
        }

        _rightMask = Vector128.Create((ReadOnlySpan<byte>)mask);
        _tweak1 = Tweak(_length, 1);
        _tweak2 = Tweak(_length, 2);
        _tweak3 = Tweak(_length, 3);
        _tweak4 = Tweak(_length, 4);
    }

    /// <summary>Octets protected: server ID length + nonce length.</summary>
    public int Length => _length;

    /// <summary>Encrypts server ID || nonce (<see cref="Length"/> octets) into <paramref name="ciphertext"/>.</summary>
    public void Encrypt(ReadOnlySpan<byte> plaintext, Span<byte> ciphertext)
    {
        switch (_algorithm)
        {
            case QuicLbAlgorithm.Plaintext:
                plaintext[.._length].CopyTo(ciphertext);
                break;
            case QuicLbAlgorithm.SinglePass:
                _aes!.Encrypt(Vector128.Create(plaintext)).CopyTo(ciphertext);
                break;
            default:
                EncryptFourPass(plaintext, ciphertext);
                break;
        }
    }

    /// <summary>Recovers server ID || nonce (<see cref="Length"/> octets) from <paramref name="ciphertext"/>.</summary>
    public void Decrypt(ReadOnlySpan<byte> ciphertext, Span<byte> plaintext)
    {
        switch (_algorithm)
        {
            case QuicLbAlgorithm.Plaintext:
                ciphertext[.._length].CopyTo(plaintext);
                break;
            case QuicLbAlgorithm.SinglePass:
                _aes!.Decrypt(Vector128.Create(ciphertext)).CopyTo(plaintext);
                break;
            default:
                DecryptFourPass(ciphertext, plaintext);
                break;
        }
    }

    /// <summary>
    /// Recovers only the server ID: three AES passes when it lies in the left half, four
    /// otherwise (draft-21 section 5.3.2, "Load Balancer Actions").
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ServerId DecryptServerId(ReadOnlySpan<byte> ciphertext)
    {
        switch (_algorithm)
        {
            case QuicLbAlgorithm.Plaintext:
                return ServerId.FromPrefix(ciphertext, _serverIdMask, _serverIdLength);
            case QuicLbAlgorithm.SinglePass:
                return ServerId.FromVector(_aes!.Decrypt(Vector128.Create(ciphertext)), _serverIdMask, _serverIdLength);

            default:
                return DecryptServerIdFourPass(ciphertext);
        }
    }

    private ServerId DecryptServerIdFourPass(ReadOnlySpan<byte> ciphertext)
    {
        Span<byte> scratch = stackalloc byte[ScratchLength];
        scoped ReadOnlySpan<byte> source = ciphertext;
        if (source.Length < _rightOffset + 16)
        {
            // Too close to the end of the buffer for whole-vector loads.
            ciphertext[.._length].CopyTo(scratch);
            source = scratch;
        }

        Vector128<byte> left2 = Vector128.Create(source) & _leftMask;
        Vector128<byte> right2 = Vector128.Create(source[_rightOffset..]) & _rightMask;
        Vector128<byte> left1 = (left2 ^ Pass(right2, _tweak4)) & _leftMask;
        Vector128<byte> right1 = (right2 ^ Pass(left1, _tweak3)) & _rightMask;
        Vector128<byte> left0 = (left1 ^ Pass(right1, _tweak2)) & _leftMask;
        if (_serverIdInLeftHalf)
        {
            return ServerId.FromVector(left0, _serverIdMask, _serverIdLength);
        }

        Vector128<byte> right0 = (right1 ^ Pass(left0, _tweak1)) & _rightMask;
        Combine(left0, right0, scratch);
        return ServerId.FromPrefix(scratch, _serverIdMask, _serverIdLength);
    }

    private void EncryptFourPass(ReadOnlySpan<byte> plaintext, Span<byte> ciphertext)
    {
        Span<byte> scratch = stackalloc byte[ScratchLength];
        plaintext[.._length].CopyTo(scratch);
        Vector128<byte> left0 = Load(scratch, 0) & _leftMask;
        Vector128<byte> right0 = Load(scratch, _rightOffset) & _rightMask;
        Vector128<byte> right1 = (right0 ^ Pass(left0, _tweak1)) & _rightMask;
        Vector128<byte> left1 = (left0 ^ Pass(right1, _tweak2)) & _leftMask;
        Vector128<byte> right2 = (right1 ^ Pass(left1, _tweak3)) & _rightMask;
        Vector128<byte> left2 = (left1 ^ Pass(right2, _tweak4)) & _leftMask;
        Combine(left2, right2, scratch);
        scratch[.._length].CopyTo(ciphertext);
    }

    private void DecryptFourPass(ReadOnlySpan<byte> ciphertext, Span<byte> plaintext)
    {
        Span<byte> scratch = stackalloc byte[ScratchLength];
        ciphertext[.._length].CopyTo(scratch);
        Vector128<byte> left2 = Load(scratch, 0) & _leftMask;
        Vector128<byte> right2 = Load(scratch, _rightOffset) & _rightMask;
        Vector128<byte> left1 = (left2 ^ Pass(right2, _tweak4)) & _leftMask;
        Vector128<byte> right1 = (right2 ^ Pass(left1, _tweak3)) & _rightMask;
        Vector128<byte> left0 = (left1 ^ Pass(right1, _tweak2)) & _leftMask;
        Vector128<byte> right0 = (right1 ^ Pass(left0, _tweak1)) & _rightMask;
        Combine(left0, right0, scratch);
        scratch[.._length].CopyTo(plaintext);
    }

    // AES-ECB(key, expand(len, pass, half)), truncated by the caller's mask. expand() puts the
    // half first, zero padding, then the plaintext length and the pass number in the last two
    // octets (draft-21 section 5.3.2).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private Vector128<byte> Pass(Vector128<byte> half, Vector128<byte> tweak) => _aes!.Encrypt(half | tweak);

    // Writes left || right into scratch[0.._length]; for an odd length the shared middle octet is
    // the OR of the left half's high nibble and the right half's low nibble.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Combine(Vector128<byte> left, Vector128<byte> right, Span<byte> scratch)
    {
        scratch.Clear();
        right.StoreUnsafe(ref MemoryMarshal.GetReference(scratch), (nuint)_rightOffset);
        (Load(scratch, 0) | left).StoreUnsafe(ref MemoryMarshal.GetReference(scratch));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<byte> Load(Span<byte> scratch, int offset) =>
        Vector128.LoadUnsafe(ref MemoryMarshal.GetReference(scratch), (nuint)offset);

    private static Vector128<byte> Tweak(int length, int pass)
    {
        Span<byte> block = stackalloc byte[16];
        block.Clear();
        block[14] = (byte)length;
        block[15] = (byte)pass;
        return Vector128.Create((ReadOnlySpan<byte>)block);
    }
}
