using System.Buffers.Binary;

namespace Mallard.Balancer.Tests.TestSupport;

/// <summary>Builds QUIC-shaped datagrams for routing and forwarding tests (headers only; payloads are filler).</summary>
internal static class Packets
{
    /// <summary>A short header packet: 0x40, the connection ID, then filler up to <paramref name="size"/>.</summary>
    public static byte[] Short(ReadOnlySpan<byte> connectionId, int size = 48, byte filler = 0x5a)
    {
        var packet = new byte[Math.Max(size, 1 + connectionId.Length)];
        packet.AsSpan().Fill(filler);
        packet[0] = 0x40;
        connectionId.CopyTo(packet.AsSpan(1));
        return packet;
    }

    /// <summary>A QUIC v1 long header of the given type bits (0 Initial, 1 0-RTT, 2 Handshake), padded to <paramref name="size"/>.</summary>
    public static byte[] Long(int typeBits, ReadOnlySpan<byte> destination, ReadOnlySpan<byte> source, int size = 1200, uint version = 1)
    {
        var packet = new byte[size];
        packet[0] = (byte)(0xc0 | (typeBits << 4));
        BinaryPrimitives.WriteUInt32BigEndian(packet.AsSpan(1), version);
        packet[5] = (byte)destination.Length;
        destination.CopyTo(packet.AsSpan(6));
        packet[6 + destination.Length] = (byte)source.Length;
        source.CopyTo(packet.AsSpan(7 + destination.Length));
        return packet;
    }

    /// <summary>A client Initial (QUIC v1) padded to 1200 octets.</summary>
    public static byte[] Initial(ReadOnlySpan<byte> destination, ReadOnlySpan<byte> source) => Long(0, destination, source);

    /// <summary>Parses fixture hex: spaces ignored; a trailing "...N" pads with zero octets to N in all.</summary>
    public static byte[] FromFixture(string text)
    {
        string hex = text;
        int size = -1;
        int dots = text.IndexOf("...", StringComparison.Ordinal);
        if (dots >= 0)
        {
            size = int.Parse(text[(dots + 3)..].Trim(), System.Globalization.CultureInfo.InvariantCulture);
            hex = text[..dots];
        }

        byte[] octets = Convert.FromHexString(hex.Replace(" ", string.Empty, StringComparison.Ordinal));
        if (size > octets.Length)
        {
            Array.Resize(ref octets, size);
        }
        else if (size >= 0)
        {
            octets = octets[..size];
        }

        return octets;
    }
}
