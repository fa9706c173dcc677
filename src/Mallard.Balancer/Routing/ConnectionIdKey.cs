using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace Mallard.Balancer.Routing;

/// <summary>A connection ID of 0 to 20 octets held by value, for table lookups without allocating.</summary>
[StructLayout(LayoutKind.Auto)]
internal readonly struct ConnectionIdKey : IEquatable<ConnectionIdKey>
{
    public const int MaxLength = 20;

    private readonly ulong _a;
    private readonly ulong _b;
    private readonly uint _c;
    private readonly byte _length;

    /// <summary>Copies up to the first 20 octets of <paramref name="connectionId"/>.</summary>
    public ConnectionIdKey(ReadOnlySpan<byte> connectionId)
    {
        Span<byte> padded = stackalloc byte[24];
        padded.Clear();
        int length = Math.Min(connectionId.Length, MaxLength);
        connectionId[..length].CopyTo(padded);
        _a = BinaryPrimitives.ReadUInt64LittleEndian(padded);
        _b = BinaryPrimitives.ReadUInt64LittleEndian(padded[8..]);
        _c = BinaryPrimitives.ReadUInt32LittleEndian(padded[16..]);
        _length = (byte)length;
    }

    public int Length => _length;

    public ulong StableHash(ulong seed) => Routing.StableHash.Hash(_a, _b, _c | ((ulong)_length << 32), seed);

    public bool Equals(ConnectionIdKey other) => _a == other._a && _b == other._b && _c == other._c && _length == other._length;

    public override bool Equals(object? obj) => obj is ConnectionIdKey other && Equals(other);

    public override int GetHashCode() => HashCode.Combine(_a, _b, _c, _length);

    /// <summary>Writes the connection ID's octets to <paramref name="destination"/> (20 octets or more); returns their count.</summary>
    public int CopyTo(Span<byte> destination)
    {
        Span<byte> octets = stackalloc byte[24];
        BinaryPrimitives.WriteUInt64LittleEndian(octets, _a);
        BinaryPrimitives.WriteUInt64LittleEndian(octets[8..], _b);
        BinaryPrimitives.WriteUInt32LittleEndian(octets[16..], _c);
        octets[.._length].CopyTo(destination);
        return _length;
    }

    public override string ToString()
    {
        Span<byte> octets = stackalloc byte[MaxLength];
        return Convert.ToHexStringLower(octets[..CopyTo(octets)]);
    }

    public static bool operator ==(ConnectionIdKey left, ConnectionIdKey right) => left.Equals(right);

    public static bool operator !=(ConnectionIdKey left, ConnectionIdKey right) => !left.Equals(right);
}
