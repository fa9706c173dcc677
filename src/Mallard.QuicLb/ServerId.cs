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
    // The octets in memory order (first octet least significant), zero beyond the length.
    private readonly UInt128 _value;
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

        _value = Pack(octets);
        _length = (byte)octets.Length;
    }

    private ServerId(UInt128 value, int length)
    {
        _value = value;
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
        BinaryPrimitives.WriteUInt128LittleEndian(all, _value);
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
    public bool Equals(ServerId other) => _value == other._value && _length == other._length;

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is ServerId other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(_value, _length);

    /// <summary>Equality of octets and length.</summary>
    public static bool operator ==(ServerId left, ServerId right) => left.Equals(right);

    /// <summary>Inequality of octets or length.</summary>
    public static bool operator !=(ServerId left, ServerId right) => !left.Equals(right);

    /// <summary>Builds a server ID from octets the caller has already checked (1 to 15 of them).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static ServerId FromValidatedOctets(ReadOnlySpan<byte> octets) => new(Pack(octets), octets.Length);

    /// <summary>
    /// Builds a server ID from the first <paramref name="length"/> octets of
    /// <paramref name="source"/>, which may run on past them (a packet, say): with 16 octets
    /// available this is one load and a mask.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static ServerId FromPrefix(ReadOnlySpan<byte> source, int length) =>
        source.Length >= 16
            ? new ServerId(BinaryPrimitives.ReadUInt128LittleEndian(source) & LowMask(length), length)
            : FromValidatedOctets(source[..length]);

    /// <summary>Builds a server ID from the first <paramref name="length"/> octets of a vector.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static ServerId FromVector(Vector128<byte> octets, int length)
    {
        Vector128<ulong> halves = octets.AsUInt64();
        return new ServerId(new UInt128(halves.GetElement(1), halves.GetElement(0)) & LowMask(length), length);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static UInt128 LowMask(int length) => (UInt128.One << (8 * length)) - UInt128.One;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static UInt128 Pack(ReadOnlySpan<byte> octets)
    {
        Span<byte> padded = stackalloc byte[16];
        padded.Clear();
        octets.CopyTo(padded);
        return BinaryPrimitives.ReadUInt128LittleEndian(padded);
    }
}
