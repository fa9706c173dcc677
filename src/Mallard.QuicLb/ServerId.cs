using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Mallard.QuicLb;

/// <summary>
/// A QUIC-LB server ID of 1 to 15 octets held by value, so a balancer can decode it and look it
/// up in a routing table without allocating. Two server IDs are equal when their octets and
/// lengths are equal.
/// </summary>
[StructLayout(LayoutKind.Auto)]
public readonly struct ServerId : IEquatable<ServerId>
{
    // The octets in memory order, little-endian in two words, zero beyond the length.
    private readonly ulong _low;
    private readonly ulong _high;
    private readonly byte _length;

    /// <summary>Creates a server ID from its octets.</summary>
    /// <exception cref="ArgumentException">The span is empty or longer than 15 octets.</exception>
    public ServerId(ReadOnlySpan<byte> octets)
    {
        if (octets.IsEmpty || octets.Length > QuicLbConfig.MaxServerIdLength)
        {
            throw new ArgumentException(
                $"A server ID is {QuicLbConfig.MinServerIdLength} to {QuicLbConfig.MaxServerIdLength} octets; got {octets.Length}.", nameof(octets));
        }

        Span<byte> padded = stackalloc byte[16];
        padded.Clear();
        octets.CopyTo(padded);
        _low = BinaryPrimitives.ReadUInt64LittleEndian(padded);
        _high = BinaryPrimitives.ReadUInt64LittleEndian(padded[8..]);
        _length = (byte)octets.Length;
    }

    private ServerId(Vector128<byte> maskedOctets, int length)
    {
        Vector128<ulong> words = maskedOctets.AsUInt64();
        _low = words.GetElement(0);
        _high = words.GetElement(1);
        _length = (byte)length;
    }

    /// <summary>Length in octets; 0 for the default value.</summary>
    public int Length => _length;

    /// <summary>Parses a server ID written as hex digits (with or without a 0x prefix).</summary>
    /// <exception cref="FormatException">The text is not 2 to 30 hex digits.</exception>
    public static ServerId Parse(string hex)
    {
        ArgumentNullException.ThrowIfNull(hex);
        string digits = hex.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? hex[2..] : hex;
        if (digits.Length == 0 || digits.Length % 2 != 0 || digits.Length > 2 * QuicLbConfig.MaxServerIdLength)
        {
            throw new FormatException($"A server ID is 1 to 15 octets written as an even number of hex digits; got \"{hex}\".");
        }

        return new ServerId(Convert.FromHexString(digits));
    }

    /// <summary>Copies the octets into <paramref name="destination"/> and returns how many were written.</summary>
    public int CopyTo(Span<byte> destination)
    {
        Span<byte> all = stackalloc byte[16];
        BinaryPrimitives.WriteUInt64LittleEndian(all, _low);
        BinaryPrimitives.WriteUInt64LittleEndian(all[8..], _high);
        all[.._length].CopyTo(destination);
        return _length;
    }

    /// <summary>The octets as a new array.</summary>
    public byte[] ToArray()
    {
        var octets = new byte[_length];
        CopyTo(octets);
        return octets;
    }

    /// <summary>Lowercase hex, as in configuration files.</summary>
    public override string ToString() => Convert.ToHexStringLower(ToArray());

    /// <inheritdoc />
    public bool Equals(ServerId other) => _low == other._low && _high == other._high && _length == other._length;

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is ServerId other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(_low, _high, _length);

    /// <summary>Equality of octets and length.</summary>
    public static bool operator ==(ServerId left, ServerId right) => left.Equals(right);

    /// <summary>Inequality of octets or length.</summary>
    public static bool operator !=(ServerId left, ServerId right) => !left.Equals(right);

    /// <summary>
    /// Builds a server ID from a vector whose first <paramref name="length"/> octets are the ID
    /// and whose other octets <paramref name="mask"/> clears.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static ServerId FromVector(Vector128<byte> octets, Vector128<byte> mask, int length) => new(octets & mask, length);

    /// <summary>
    /// Builds a server ID from the first <paramref name="length"/> octets of
    /// <paramref name="source"/>, which may run on past them (a packet, say): with 16 octets
    /// available this is one load and a mask.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static ServerId FromPrefix(ReadOnlySpan<byte> source, Vector128<byte> mask, int length) =>
        source.Length >= 16 ? new ServerId(Vector128.Create(source) & mask, length) : FromShortPrefix(source, mask, length);

    /// <summary>A mask that keeps the first <paramref name="length"/> octets of a vector.</summary>
    internal static Vector128<byte> PrefixMask(int length)
    {
        Span<byte> mask = stackalloc byte[16];
        mask.Clear();
        mask[..length].Fill(0xff);
        return Vector128.Create((ReadOnlySpan<byte>)mask);
    }

    // Kept out of line so the stack buffer does not weigh on callers' fast paths.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static ServerId FromShortPrefix(ReadOnlySpan<byte> source, Vector128<byte> mask, int length)
    {
        Span<byte> padded = stackalloc byte[16];
        source[..length].CopyTo(padded);
        return new ServerId(Vector128.Create((ReadOnlySpan<byte>)padded) & mask, length);
    }
}
