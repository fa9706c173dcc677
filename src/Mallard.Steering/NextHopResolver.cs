using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Numerics;

namespace Mallard.Steering;

/// <summary>
/// Finds the MAC that a VXLAN-wrapped frame for a peer's underlay address goes to from one
/// interface, as the kernel would send it: the longest matching IPv4 route
/// (<c>/proc/net/route</c>) gives the gateway (or the peer itself on the link), the neighbour
/// table (<c>/proc/net/arp</c>) its MAC. When the neighbour is not known yet, a one-octet
/// datagram to the peer's VXLAN port makes the kernel resolve it (the peer's VXLAN device drops
/// it). Null when the route leaves through another interface, or the neighbour is unknown.
/// </summary>
internal sealed class NextHopResolver(string interfaceName, string routes = "/proc/net/route", string neighbours = "/proc/net/arp")
{
    /// <summary>The next hop's MAC towards <paramref name="peer"/>, or null.</summary>
    public byte[]? Resolve(IPAddress peer)
    {
        IPAddress? hop = NextHop(peer);
        return hop is null ? null : NeighbourMac(hop);
    }

    /// <summary>Has the kernel resolve the next hop towards <paramref name="peer"/>: one octet to its VXLAN port from this server's underlay address.</summary>
    public static void Prompt(IPAddress peer, SteeringEncapsulation encapsulation)
    {
        try
        {
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            socket.Bind(new IPEndPoint(encapsulation.Address, 0));
            socket.SendTo([0], new IPEndPoint(peer, encapsulation.Port));
        }
        catch (SocketException)
        {
            // Unreachable now: the next refresh tries again.
        }
    }

    // The gateway of the longest matching route, or the peer when the route is on the link;
    // null when that route leaves through another interface.
    internal IPAddress? NextHop(IPAddress peer)
    {
        uint target = BinaryPrimitives.ReadUInt32BigEndian(peer.GetAddressBytes());
        (string Interface, uint Gateway, int PrefixLength)? best = null;
        foreach (string line in File.ReadLines(routes).Skip(1))
        {
            string[] fields = line.Split('\t', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (fields.Length < 8
                || !uint.TryParse(fields[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out uint destination)
                || !uint.TryParse(fields[2], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out uint gateway)
                || !uint.TryParse(fields[7], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out uint mask))
            {
                continue;
            }

            // The file prints each address as the host-order value of its network-order octets.
            destination = BinaryPrimitives.ReverseEndianness(destination);
            mask = BinaryPrimitives.ReverseEndianness(mask);
            int prefix = BitOperations.PopCount(mask);
            if ((target & mask) == destination && (best is null || prefix > best.Value.PrefixLength))
            {
                best = (fields[0], BinaryPrimitives.ReverseEndianness(gateway), prefix);
            }
        }

        if (best is not { } route || route.Interface != interfaceName)
        {
            return null;
        }

        if (route.Gateway == 0)
        {
            return peer;
        }

        byte[] octets = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(octets, route.Gateway);
        return new IPAddress(octets);
    }

    private byte[]? NeighbourMac(IPAddress hop)
    {
        string address = hop.ToString();
        foreach (string line in File.ReadLines(neighbours).Skip(1))
        {
            string[] fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            // IP address, HW type, Flags (0x2: complete), HW address, Mask, Device
            if (fields.Length >= 6 && fields[0] == address && fields[5] == interfaceName
                && fields[2].StartsWith("0x", StringComparison.Ordinal)
                && int.TryParse(fields[2].AsSpan(2), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out int flags) && (flags & 2) != 0
                && fields[3].Length == 17)
            {
                byte[] mac = Convert.FromHexString(fields[3].Replace(":", string.Empty, StringComparison.Ordinal));
                return mac.Length == 6 ? mac : null;
            }
        }

        return null;
    }
}
