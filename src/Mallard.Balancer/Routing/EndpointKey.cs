using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Mallard.Balancer.Routing;

/// <summary>
/// A client's IP address and port held by value, built from a received <see cref="SocketAddress"/>
/// without allocating, for table lookups on every packet. IPv4 addresses are held IPv4-mapped.
/// </summary>
[StructLayout(LayoutKind.Auto)]
internal readonly struct EndpointKey : IEquatable<EndpointKey>
{
    private const ulong MappedPrefix = 0x0000_ffff_0000_0000UL;

    private readonly ulong _high;
    private readonly ulong _low;
    private readonly ushort _port;

    public EndpointKey(ulong high, ulong low, ushort port)
    {
        _high = high;
        _low = low;
        _port = port;
    }

    public int Port => _port;

    /// <summary>The same address without its port: the key of a source host.</summary>
    public EndpointKey Address => new(_high, _low, 0);

    /// <summary>
    /// Reads the native sockaddr in <paramref name="address"/> (sockaddr_in or sockaddr_in6,
    /// whose port and address offsets are the same on Linux, macOS and Windows).
    /// </summary>
    public static EndpointKey From(SocketAddress address)
    {
        ReadOnlySpan<byte> raw = address.Buffer.Span[..address.Size];
        ushort port = BinaryPrimitives.ReadUInt16BigEndian(raw[2..]);
        if (address.Family == AddressFamily.InterNetworkV6 && raw.Length >= 24)
        {
            return new EndpointKey(BinaryPrimitives.ReadUInt64BigEndian(raw[8..]), BinaryPrimitives.ReadUInt64BigEndian(raw[16..]), port);
        }

        return new EndpointKey(0, MappedPrefix | BinaryPrimitives.ReadUInt32BigEndian(raw[4..]), port);
    }

    /// <summary>Builds the key of an <see cref="IPEndPoint"/> (tests and control plane; allocates).</summary>
    public static EndpointKey From(IPEndPoint endpoint) => From(endpoint.Serialize());

    /// <summary>A hash that is the same on every balancer, for the fallback.</summary>
    public ulong StableHash(ulong seed) => Routing.StableHash.Hash(_high, _low, _port, seed);

    public bool Equals(EndpointKey other) => _high == other._high && _low == other._low && _port == other._port;

    public override bool Equals(object? obj) => obj is EndpointKey other && Equals(other);

    public override int GetHashCode() => HashCode.Combine(_high, _low, _port);

    public override string ToString()
    {
        Span<byte> octets = stackalloc byte[16];
        BinaryPrimitives.WriteUInt64BigEndian(octets, _high);
        BinaryPrimitives.WriteUInt64BigEndian(octets[8..], _low);
        var ip = new IPAddress(octets);
        return new IPEndPoint(ip.IsIPv4MappedToIPv6 ? ip.MapToIPv4() : ip, _port).ToString();
    }

    public static bool operator ==(EndpointKey left, EndpointKey right) => left.Equals(right);

    public static bool operator !=(EndpointKey left, EndpointKey right) => !left.Equals(right);
}
