using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using ArmAes = System.Runtime.Intrinsics.Arm.Aes;
using X86Aes = System.Runtime.Intrinsics.X86.Aes;

namespace Mallard.QuicLb.Crypto;

/// <summary>
/// AES-128 single-block encryption and decryption (FIPS-197) with the key schedule expanded once.
/// Uses AES-NI on x86 and the Arm cryptography extension where present, and a portable
/// implementation otherwise. Allocation-free per block.
/// </summary>
internal sealed class Aes128
{
    public const int RoundKeyCount = 11;

    private readonly bool _useHardware;
    private readonly bool _decrypts;
    private RoundKeys _encryptionKeys;

    // Keys for the "equivalent inverse cipher" (FIPS-197 section 5.3.5): reversed, with
    // InvMixColumns applied to rounds 1-9, which is the form AESDEC/AESD expect.
    private RoundKeys _equivalentDecryptionKeys;

    /// <param name="key">The 16-octet key.</param>
    /// <param name="allowHardware">False forces the portable implementation (tests compare the two).</param>
    /// <param name="withDecryption">False skips the inverse key schedule for a caller that only encrypts (QUIC header protection, one per packet protection key).</param>
    public Aes128(ReadOnlySpan<byte> key, bool allowHardware = true, bool withDecryption = true)
    {
        if (key.Length != 16)
        {
            throw new ArgumentException("An AES-128 key is 16 octets.", nameof(key));
        }

        Implementation = !allowHardware ? AesImplementation.Portable
            : X86Aes.IsSupported ? AesImplementation.X86AesNi
            : ArmAes.IsSupported ? AesImplementation.ArmAes
            : AesImplementation.Portable;
        _useHardware = Implementation != AesImplementation.Portable;

        Span<byte> schedule = stackalloc byte[16 * RoundKeyCount];
        ExpandKey(key, schedule);
        for (int round = 0; round < RoundKeyCount; round++)
        {
            _encryptionKeys[round] = Vector128.Create((ReadOnlySpan<byte>)schedule.Slice(16 * round, 16));
        }

        _decrypts = withDecryption;
        if (!withDecryption)
        {
            return;
        }

        Span<byte> mixed = stackalloc byte[16];
        for (int i = 0; i < RoundKeyCount; i++)
        {
            Span<byte> source = schedule.Slice(16 * (RoundKeyCount - 1 - i), 16);
            if (i is 0 or RoundKeyCount - 1)
            {
                _equivalentDecryptionKeys[i] = Vector128.Create((ReadOnlySpan<byte>)source);
            }
            else
            {
                source.CopyTo(mixed);
                InverseMixColumns(mixed);
                _equivalentDecryptionKeys[i] = Vector128.Create((ReadOnlySpan<byte>)mixed);
            }
        }
    }

    /// <summary>Whether hardware AES instructions are available on this machine.</summary>
    public static bool IsHardwareAccelerated => X86Aes.IsSupported || ArmAes.IsSupported;

    public AesImplementation Implementation { get; }

    /// <summary>Encrypts one 16-octet block.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector128<byte> Encrypt(Vector128<byte> block)
    {
        // IsSupported is a JIT-time constant, so on each platform only one branch remains.
        if (X86Aes.IsSupported && _useHardware)
        {
            return EncryptX86(block);
        }

        if (ArmAes.IsSupported && _useHardware)
        {
            return EncryptArm(block);
        }

        return EncryptPortable(block);
    }

    /// <summary>Decrypts one 16-octet block (only on an instance made with decryption).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector128<byte> Decrypt(Vector128<byte> block)
    {
        System.Diagnostics.Debug.Assert(_decrypts, "this instance was made without the inverse key schedule");
        if (X86Aes.IsSupported && _useHardware)
        {
            return DecryptX86(block);
        }

        if (ArmAes.IsSupported && _useHardware)
        {
            return DecryptArm(block);
        }

        return DecryptPortable(block);
    }

    /// <summary>Encrypts one block from <paramref name="source"/> into <paramref name="destination"/>.</summary>
    public void Encrypt(ReadOnlySpan<byte> source, Span<byte> destination) =>
        Encrypt(Vector128.Create(source)).CopyTo(destination);

    /// <summary>Decrypts one block from <paramref name="source"/> into <paramref name="destination"/>.</summary>
    public void Decrypt(ReadOnlySpan<byte> source, Span<byte> destination) =>
        Decrypt(Vector128.Create(source)).CopyTo(destination);

    // Unrolled so that every round key index is a constant and the JIT drops the bounds checks.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private Vector128<byte> EncryptX86(Vector128<byte> state)
    {
        ref RoundKeys k = ref _encryptionKeys;
        state ^= k[0];
        state = X86Aes.Encrypt(state, k[1]);
        state = X86Aes.Encrypt(state, k[2]);
        state = X86Aes.Encrypt(state, k[3]);
        state = X86Aes.Encrypt(state, k[4]);
        state = X86Aes.Encrypt(state, k[5]);
        state = X86Aes.Encrypt(state, k[6]);
        state = X86Aes.Encrypt(state, k[7]);
        state = X86Aes.Encrypt(state, k[8]);
        state = X86Aes.Encrypt(state, k[9]);
        return X86Aes.EncryptLast(state, k[10]);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private Vector128<byte> DecryptX86(Vector128<byte> state)
    {
        ref RoundKeys k = ref _equivalentDecryptionKeys;
        state ^= k[0];
        state = X86Aes.Decrypt(state, k[1]);
        state = X86Aes.Decrypt(state, k[2]);
        state = X86Aes.Decrypt(state, k[3]);
        state = X86Aes.Decrypt(state, k[4]);
        state = X86Aes.Decrypt(state, k[5]);
        state = X86Aes.Decrypt(state, k[6]);
        state = X86Aes.Decrypt(state, k[7]);
        state = X86Aes.Decrypt(state, k[8]);
        state = X86Aes.Decrypt(state, k[9]);
        return X86Aes.DecryptLast(state, k[10]);
    }

    // AESE adds the round key before SubBytes/ShiftRows, so the schedule is shifted by one
    // compared with AES-NI and the final key is a plain XOR.
    private Vector128<byte> EncryptArm(Vector128<byte> state)
    {
        for (int round = 0; round < RoundKeyCount - 2; round++)
        {
            state = ArmAes.MixColumns(ArmAes.Encrypt(state, _encryptionKeys[round]));
        }

        return ArmAes.Encrypt(state, _encryptionKeys[RoundKeyCount - 2]) ^ _encryptionKeys[RoundKeyCount - 1];
    }

    private Vector128<byte> DecryptArm(Vector128<byte> state)
    {
        for (int round = 0; round < RoundKeyCount - 2; round++)
        {
            state = ArmAes.InverseMixColumns(ArmAes.Decrypt(state, _equivalentDecryptionKeys[round]));
        }

        return ArmAes.Decrypt(state, _equivalentDecryptionKeys[RoundKeyCount - 2]) ^ _equivalentDecryptionKeys[RoundKeyCount - 1];
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private Vector128<byte> EncryptPortable(Vector128<byte> block)
    {
        Span<byte> state = stackalloc byte[16];
        Span<byte> roundKey = stackalloc byte[16];
        (block ^ _encryptionKeys[0]).CopyTo(state);
        for (int round = 1; round < RoundKeyCount; round++)
        {
            SubBytes(state, AesTables.SBox);
            ShiftRows(state, inverse: false);
            if (round != RoundKeyCount - 1)
            {
                MixColumns(state);
            }

            _encryptionKeys[round].CopyTo(roundKey);
            Xor(state, roundKey);
        }

        return Vector128.Create((ReadOnlySpan<byte>)state);
    }

    // The straightforward inverse cipher (FIPS-197 section 5.3), reading the normal schedule
    // backwards.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private Vector128<byte> DecryptPortable(Vector128<byte> block)
    {
        Span<byte> state = stackalloc byte[16];
        Span<byte> roundKey = stackalloc byte[16];
        (block ^ _encryptionKeys[RoundKeyCount - 1]).CopyTo(state);
        for (int round = RoundKeyCount - 2; round >= 0; round--)
        {
            ShiftRows(state, inverse: true);
            SubBytes(state, AesTables.InverseSBox);
            _encryptionKeys[round].CopyTo(roundKey);
            Xor(state, roundKey);
            if (round != 0)
            {
                InverseMixColumns(state);
            }
        }

        return Vector128.Create((ReadOnlySpan<byte>)state);
    }

    /// <summary>FIPS-197 section 5.2.</summary>
    private static void ExpandKey(ReadOnlySpan<byte> key, Span<byte> schedule)
    {
        key.CopyTo(schedule);
        byte roundConstant = 1;
        Span<byte> word = stackalloc byte[4];
        for (int i = 16; i < schedule.Length; i += 4)
        {
            schedule.Slice(i - 4, 4).CopyTo(word);
            if (i % 16 == 0)
            {
                // RotWord, SubWord, Rcon.
                byte first = word[0];
                word[0] = (byte)(AesTables.SBox[word[1]] ^ roundConstant);
                word[1] = AesTables.SBox[word[2]];
                word[2] = AesTables.SBox[word[3]];
                word[3] = AesTables.SBox[first];
                roundConstant = AesTables.Times2(roundConstant);
            }

            for (int j = 0; j < 4; j++)
            {
                schedule[i + j] = (byte)(schedule[i - 16 + j] ^ word[j]);
            }
        }
    }

    private static void SubBytes(Span<byte> state, byte[] box)
    {
        for (int i = 0; i < 16; i++)
        {
            state[i] = box[state[i]];
        }
    }

    // The state is column-major: octet i sits in row i % 4 of column i / 4. Row r rotates by r
    // columns, left to encrypt and right to decrypt.
    private static void ShiftRows(Span<byte> state, bool inverse)
    {
        Span<byte> copy = stackalloc byte[16];
        state.CopyTo(copy);
        for (int column = 0; column < 4; column++)
        {
            for (int row = 1; row < 4; row++)
            {
                int from = inverse ? (column - row + 4) % 4 : (column + row) % 4;
                state[(4 * column) + row] = copy[(4 * from) + row];
            }
        }
    }

    private static void MixColumns(Span<byte> state)
    {
        for (int c = 0; c < 16; c += 4)
        {
            byte a0 = state[c], a1 = state[c + 1], a2 = state[c + 2], a3 = state[c + 3];
            byte all = (byte)(a0 ^ a1 ^ a2 ^ a3);
            state[c] ^= (byte)(all ^ AesTables.Times2((byte)(a0 ^ a1)));
            state[c + 1] ^= (byte)(all ^ AesTables.Times2((byte)(a1 ^ a2)));
            state[c + 2] ^= (byte)(all ^ AesTables.Times2((byte)(a2 ^ a3)));
            state[c + 3] ^= (byte)(all ^ AesTables.Times2((byte)(a3 ^ a0)));
        }
    }

    private static void InverseMixColumns(Span<byte> state)
    {
        for (int c = 0; c < 16; c += 4)
        {
            byte a0 = state[c], a1 = state[c + 1], a2 = state[c + 2], a3 = state[c + 3];
            state[c] = (byte)(AesTables.Multiply(a0, 14) ^ AesTables.Multiply(a1, 11) ^ AesTables.Multiply(a2, 13) ^ AesTables.Multiply(a3, 9));
            state[c + 1] = (byte)(AesTables.Multiply(a0, 9) ^ AesTables.Multiply(a1, 14) ^ AesTables.Multiply(a2, 11) ^ AesTables.Multiply(a3, 13));
            state[c + 2] = (byte)(AesTables.Multiply(a0, 13) ^ AesTables.Multiply(a1, 9) ^ AesTables.Multiply(a2, 14) ^ AesTables.Multiply(a3, 11));
            state[c + 3] = (byte)(AesTables.Multiply(a0, 11) ^ AesTables.Multiply(a1, 13) ^ AesTables.Multiply(a2, 9) ^ AesTables.Multiply(a3, 14));
        }
    }

    private static void Xor(Span<byte> state, ReadOnlySpan<byte> other)
    {
        for (int i = 0; i < 16; i++)
        {
            state[i] ^= other[i];
        }
    }
}
