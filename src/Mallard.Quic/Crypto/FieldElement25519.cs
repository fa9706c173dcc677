using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace Mallard.Quic.Crypto;

/// <summary>
/// An element of GF(2^255 - 19) in five 51-bit limbs, with the constant-time arithmetic X25519
/// needs (RFC 7748 section 5). No branch or memory access depends on a value.
/// </summary>
internal struct FieldElement25519
{
    private const ulong Mask51 = (1UL << 51) - 1;

    private ulong _l0;
    private ulong _l1;
    private ulong _l2;
    private ulong _l3;
    private ulong _l4;

    public static FieldElement25519 One => new() { _l0 = 1 };

    /// <summary>Decodes 32 little-endian octets, ignoring the top bit (RFC 7748 section 5).</summary>
    public static FieldElement25519 FromBytes(ReadOnlySpan<byte> bytes)
    {
        ulong w0 = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        ulong w1 = BinaryPrimitives.ReadUInt64LittleEndian(bytes[8..]);
        ulong w2 = BinaryPrimitives.ReadUInt64LittleEndian(bytes[16..]);
        ulong w3 = BinaryPrimitives.ReadUInt64LittleEndian(bytes[24..]);
        return new FieldElement25519
        {
            _l0 = w0 & Mask51,
            _l1 = ((w0 >> 51) | (w1 << 13)) & Mask51,
            _l2 = ((w1 >> 38) | (w2 << 26)) & Mask51,
            _l3 = ((w2 >> 25) | (w3 << 39)) & Mask51,
            _l4 = (w3 >> 12) & Mask51,
        };
    }

    /// <summary>Encodes the fully reduced value as 32 little-endian octets.</summary>
    public readonly void ToBytes(Span<byte> bytes)
    {
        FieldElement25519 h = this;
        h.Carry();
        h.Carry();

        // q is 1 exactly when h >= p: adding 19 then carries out of bit 255.
        ulong q = (h._l0 + 19) >> 51;
        q = (h._l1 + q) >> 51;
        q = (h._l2 + q) >> 51;
        q = (h._l3 + q) >> 51;
        q = (h._l4 + q) >> 51;
        h._l0 += 19 * q;
        h._l1 += h._l0 >> 51;
        h._l0 &= Mask51;
        h._l2 += h._l1 >> 51;
        h._l1 &= Mask51;
        h._l3 += h._l2 >> 51;
        h._l2 &= Mask51;
        h._l4 += h._l3 >> 51;
        h._l3 &= Mask51;
        h._l4 &= Mask51;

        BinaryPrimitives.WriteUInt64LittleEndian(bytes, h._l0 | (h._l1 << 51));
        BinaryPrimitives.WriteUInt64LittleEndian(bytes[8..], (h._l1 >> 13) | (h._l2 << 38));
        BinaryPrimitives.WriteUInt64LittleEndian(bytes[16..], (h._l2 >> 26) | (h._l3 << 25));
        BinaryPrimitives.WriteUInt64LittleEndian(bytes[24..], (h._l3 >> 39) | (h._l4 << 12));
    }

    public static FieldElement25519 Add(in FieldElement25519 a, in FieldElement25519 b)
    {
        var r = new FieldElement25519
        {
            _l0 = a._l0 + b._l0,
            _l1 = a._l1 + b._l1,
            _l2 = a._l2 + b._l2,
            _l3 = a._l3 + b._l3,
            _l4 = a._l4 + b._l4,
        };
        r.Carry();
        return r;
    }

    /// <summary>a - b, computed as a + 4p - b so no limb goes negative.</summary>
    public static FieldElement25519 Subtract(in FieldElement25519 a, in FieldElement25519 b)
    {
        var r = new FieldElement25519
        {
            _l0 = a._l0 + 0x1FFFFFFFFFFFB4 - b._l0,
            _l1 = a._l1 + 0x1FFFFFFFFFFFFC - b._l1,
            _l2 = a._l2 + 0x1FFFFFFFFFFFFC - b._l2,
            _l3 = a._l3 + 0x1FFFFFFFFFFFFC - b._l3,
            _l4 = a._l4 + 0x1FFFFFFFFFFFFC - b._l4,
        };
        r.Carry();
        return r;
    }

    public static FieldElement25519 Multiply(in FieldElement25519 a, in FieldElement25519 b)
    {
        ulong b1 = b._l1 * 19, b2 = b._l2 * 19, b3 = b._l3 * 19, b4 = b._l4 * 19;
        UInt128 r0 = M(a._l0, b._l0) + M(a._l1, b4) + M(a._l2, b3) + M(a._l3, b2) + M(a._l4, b1);
        UInt128 r1 = M(a._l0, b._l1) + M(a._l1, b._l0) + M(a._l2, b4) + M(a._l3, b3) + M(a._l4, b2);
        UInt128 r2 = M(a._l0, b._l2) + M(a._l1, b._l1) + M(a._l2, b._l0) + M(a._l3, b4) + M(a._l4, b3);
        UInt128 r3 = M(a._l0, b._l3) + M(a._l1, b._l2) + M(a._l2, b._l1) + M(a._l3, b._l0) + M(a._l4, b4);
        UInt128 r4 = M(a._l0, b._l4) + M(a._l1, b._l3) + M(a._l2, b._l2) + M(a._l3, b._l1) + M(a._l4, b._l0);
        return Reduce(r0, r1, r2, r3, r4);
    }

    public static FieldElement25519 Square(in FieldElement25519 a) => Multiply(a, a);

    /// <summary>a × 121665, the (A - 2) / 4 constant of the ladder (RFC 7748 section 5).</summary>
    public static FieldElement25519 MultiplyA24(in FieldElement25519 a) =>
        Reduce(M(a._l0, 121665), M(a._l1, 121665), M(a._l2, 121665), M(a._l3, 121665), M(a._l4, 121665));

    /// <summary>a^(p-2) = 1/a (0 for 0), by the usual addition chain of 254 squarings and 11 multiplications.</summary>
    public static FieldElement25519 Invert(in FieldElement25519 z)
    {
        FieldElement25519 z2 = Square(z);
        FieldElement25519 z9 = Multiply(SquareTimes(z2, 2), z);
        FieldElement25519 z11 = Multiply(z9, z2);
        FieldElement25519 z2_5_0 = Multiply(Square(z11), z9);
        FieldElement25519 z2_10_0 = Multiply(SquareTimes(z2_5_0, 5), z2_5_0);
        FieldElement25519 z2_20_0 = Multiply(SquareTimes(z2_10_0, 10), z2_10_0);
        FieldElement25519 z2_40_0 = Multiply(SquareTimes(z2_20_0, 20), z2_20_0);
        FieldElement25519 z2_50_0 = Multiply(SquareTimes(z2_40_0, 10), z2_10_0);
        FieldElement25519 z2_100_0 = Multiply(SquareTimes(z2_50_0, 50), z2_50_0);
        FieldElement25519 z2_200_0 = Multiply(SquareTimes(z2_100_0, 100), z2_100_0);
        FieldElement25519 z2_250_0 = Multiply(SquareTimes(z2_200_0, 50), z2_50_0);
        return Multiply(SquareTimes(z2_250_0, 5), z11);
    }

    /// <summary>Swaps a and b when <paramref name="swap"/> is 1, leaves them when 0, without branching.</summary>
    public static void ConditionalSwap(ref FieldElement25519 a, ref FieldElement25519 b, ulong swap)
    {
        ulong mask = 0 - swap;
        ulong t;
        t = mask & (a._l0 ^ b._l0); a._l0 ^= t; b._l0 ^= t;
        t = mask & (a._l1 ^ b._l1); a._l1 ^= t; b._l1 ^= t;
        t = mask & (a._l2 ^ b._l2); a._l2 ^= t; b._l2 ^= t;
        t = mask & (a._l3 ^ b._l3); a._l3 ^= t; b._l3 ^= t;
        t = mask & (a._l4 ^ b._l4); a._l4 ^= t; b._l4 ^= t;
    }

    private static FieldElement25519 SquareTimes(in FieldElement25519 a, int times)
    {
        FieldElement25519 r = a;
        for (int i = 0; i < times; i++)
        {
            r = Square(r);
        }

        return r;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static UInt128 M(ulong a, ulong b)
    {
        ulong high = Math.BigMul(a, b, out ulong low);
        return new UInt128(high, low);
    }

    private static FieldElement25519 Reduce(UInt128 r0, UInt128 r1, UInt128 r2, UInt128 r3, UInt128 r4)
    {
        r1 += r0 >> 51;
        r2 += r1 >> 51;
        r3 += r2 >> 51;
        r4 += r3 >> 51;
        var h = new FieldElement25519
        {
            _l0 = (ulong)r0 & Mask51,
            _l1 = (ulong)r1 & Mask51,
            _l2 = (ulong)r2 & Mask51,
            _l3 = (ulong)r3 & Mask51,
            _l4 = (ulong)r4 & Mask51,
        };

        // 2^255 = 19 (mod p): the carry out of the top limb re-enters the bottom one.
        h._l0 += (ulong)(r4 >> 51) * 19;
        h._l1 += h._l0 >> 51;
        h._l0 &= Mask51;
        return h;
    }

    private void Carry()
    {
        _l1 += _l0 >> 51;
        _l0 &= Mask51;
        _l2 += _l1 >> 51;
        _l1 &= Mask51;
        _l3 += _l2 >> 51;
        _l2 &= Mask51;
        _l4 += _l3 >> 51;
        _l3 &= Mask51;
        _l0 += (_l4 >> 51) * 19;
        _l4 &= Mask51;
    }
}
