using System.Buffers.Binary;

namespace Mallard.Steering.Tests;

/// <summary>Ethernet frames around a UDP payload, for running the XDP program on them.</summary>
internal static class Frames
{
    public static readonly byte[] RouterMac = [0x02, 0, 0, 0, 0, 0x01];
    public static readonly byte[] OwnMac = [0x02, 0, 0, 0, 0, 0x0a];
    public static readonly byte[] PeerMac = [0x02, 0, 0, 0, 0, 0x0b];

    /// <summary>Ethernet, IPv4 (no options) and UDP to <paramref name="port"/>, then <paramref name="payload"/>.</summary>
    public static byte[] Ipv4(ReadOnlySpan<byte> payload, ushort port = 443, byte[]? sourceMac = null, ushort fragment = 0)
    {
        byte[] frame = new byte[14 + 20 + 8 + payload.Length];
        Ethernet(frame, 0x0800, sourceMac);
        Span<byte> ip = frame.AsSpan(14, 20);
        ip[0] = 0x45;
        BinaryPrimitives.WriteUInt16BigEndian(ip[2..], (ushort)(20 + 8 + payload.Length));
        BinaryPrimitives.WriteUInt16BigEndian(ip[6..], fragment);
        ip[8] = 64;
        ip[9] = 17;
        ip[12] = 198;
        ip[13] = 51;
        ip[14] = 100;
        ip[15] = 7;
        ip[16] = 203;
        ip[17] = 0;
        ip[18] = 113;
        ip[19] = 1;
        Udp(frame.AsSpan(34), port, payload);
        return frame;
    }

    /// <summary>Ethernet, IPv6 (UDP as the next header) and UDP to <paramref name="port"/>, then <paramref name="payload"/>.</summary>
    public static byte[] Ipv6(ReadOnlySpan<byte> payload, ushort port = 443, byte nextHeader = 17)
    {
        byte[] frame = new byte[14 + 40 + 8 + payload.Length];
        Ethernet(frame, 0x86dd, null);
        Span<byte> ip = frame.AsSpan(14, 40);
        ip[0] = 0x60;
        BinaryPrimitives.WriteUInt16BigEndian(ip[4..], (ushort)(8 + payload.Length));
        ip[6] = nextHeader;
        ip[7] = 64;
        ip[8] = 0x20;
        ip[9] = 0x01;
        ip[10] = 0x0d;
        ip[11] = 0xb8;
        ip[23] = 7;
        ip[24] = 0x20;
        ip[25] = 0x01;
        ip[26] = 0x0d;
        ip[27] = 0xb8;
        ip[39] = 1;
        Udp(frame.AsSpan(54), port, payload);
        return frame;
    }

    /// <summary>A QUIC short header packet: 0x40, the destination connection ID, filler.</summary>
    public static byte[] Short(ReadOnlySpan<byte> connectionId, int size = 60)
    {
        byte[] packet = new byte[Math.Max(size, 1 + connectionId.Length)];
        packet.AsSpan().Fill(0x5a);
        packet[0] = 0x40;
        connectionId.CopyTo(packet.AsSpan(1));
        return packet;
    }

    /// <summary>A QUIC v1 long header of type <paramref name="typeBits"/> (0 Initial, 1 0-RTT, 2 Handshake, 3 Retry).</summary>
    public static byte[] Long(int typeBits, ReadOnlySpan<byte> destination, uint version = 1, int size = 1200)
    {
        byte[] packet = new byte[size];
        packet[0] = (byte)(0xc0 | (typeBits << 4));
        BinaryPrimitives.WriteUInt32BigEndian(packet.AsSpan(1), version);
        packet[5] = (byte)destination.Length;
        destination.CopyTo(packet.AsSpan(6));
        packet[6 + destination.Length] = 8; // a source connection ID of 8 octets follows
        return packet;
    }

    private static void Ethernet(Span<byte> frame, ushort type, byte[]? source)
    {
        OwnMac.CopyTo(frame);
        (source ?? RouterMac).CopyTo(frame[6..]);
        BinaryPrimitives.WriteUInt16BigEndian(frame[12..], type);
    }

    private static void Udp(Span<byte> udp, ushort port, ReadOnlySpan<byte> payload)
    {
        BinaryPrimitives.WriteUInt16BigEndian(udp, 50_000);
        BinaryPrimitives.WriteUInt16BigEndian(udp[2..], port);
        BinaryPrimitives.WriteUInt16BigEndian(udp[4..], (ushort)(8 + payload.Length));
        payload.CopyTo(udp[8..]);
    }
}
