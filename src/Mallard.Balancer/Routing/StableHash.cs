using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace Mallard.Balancer.Routing;

/// <summary>
/// A fixed, unseeded-by-process 64-bit hash. Balancers behind ECMP must agree on fallback
/// decisions, so this hash gives the same value for the same bytes on every machine and run
/// (unlike <see cref="HashCode"/>, which is randomized per process).
/// </summary>
internal static class StableHash
{
    private const ulong Prime1 = 0x9E3779B185EBCA87UL;
    private const ulong Prime2 = 0xC2B2AE3D27D4EB4FUL;

    /// <summary>Hashes <paramref name="data"/> with <paramref name="seed"/>.</summary>
    public static ulong Hash(ReadOnlySpan<byte> data, ulong seed)
    {
        ulong h = seed ^ ((ulong)data.Length * Prime1);
        while (data.Length >= 8)
        {
            h = Step(h, BinaryPrimitives.ReadUInt64LittleEndian(data));
            data = data[8..];
        }

        if (!data.IsEmpty)
        {
            Span<byte> tail = stackalloc byte[8];
            tail.Clear();
            data.CopyTo(tail);
            h = Step(h, BinaryPrimitives.ReadUInt64LittleEndian(tail));
        }

        return Finish(h);
    }

    /// <summary>Hashes three words, for keys already held as integers.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Hash(ulong a, ulong b, ulong c, ulong seed) =>
        Finish(Step(Step(Step(seed ^ Prime2, a), b), c));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Step(ulong h, ulong word)
    {
        h ^= word * Prime2;
        h = ulong.RotateLeft(h, 31) * Prime1;
        return h;
    }

    // The murmur3 64-bit finalizer: every input bit affects every output bit.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Finish(ulong h)
    {
        h ^= h >> 33;
        h *= 0xff51afd7ed558ccdUL;
        h ^= h >> 33;
        h *= 0xc4ceb9fe1a85ec53UL;
        h ^= h >> 33;
        return h;
    }
}
