using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Mallard.Quic.Crypto;
using Mallard.Quic.Frames;
using Mallard.Quic.Packets;

namespace Mallard.DatagramBench;

/// <summary>
/// Hostile datagrams of every kind the hardening review found, sent from many source ports of
/// several loopback addresses: random bytes, truncated Initials, unknown versions with long
/// connection IDs (Version Negotiation), Initials that decrypt and carry overlapping CRYPTO frames
/// (half-open connections), and short headers with random connection IDs (stateless resets at a
/// server, new flows at a balancer).
/// </summary>
internal sealed class HostileFlood : IDisposable
{
    private const int Kinds = 5;
    private readonly List<Socket> _sockets = [];
    private readonly byte[][] _initials;
    private readonly Random _random = new(1_000_003);

    public HostileFlood(int sockets)
    {
        for (int i = 0; i < sockets; i++)
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            socket.Bind(new IPEndPoint(IPAddress.Parse($"127.0.0.{2 + (i % 8)}"), 0));
            _sockets.Add(socket);
        }

        // A few hundred decryptable Initials, built once: each a CRYPTO frame at offset 1, 2, 3, …
        _initials = [.. Enumerable.Range(0, 256).Select(i => Initial(RandomNumberGenerator.GetBytes(8), (ulong)(1 + (i % 64))))];
    }

    public long Sent { get; private set; }

    /// <summary>Sends one hostile datagram to <paramref name="target"/>.</summary>
    public void SendOne(IPEndPoint target)
    {
        byte[] datagram = (Sent % Kinds) switch
        {
            0 => RandomBytes(_random.Next(0, 1500)),
            1 => _initials[_random.Next(_initials.Length)][..(20 + _random.Next(1000))], // truncated
            2 => UnknownVersion(),
            3 => _initials[_random.Next(_initials.Length)],
            _ => ShortHeader(),
        };
        try
        {
            _sockets[(int)(Sent % _sockets.Count)].SendTo(datagram, target);
        }
        catch (SocketException)
        {
            // A full buffer or an ICMP error from an earlier datagram: the flood goes on.
        }

        Sent++;
    }

    public void Dispose() => _sockets.ForEach(s => s.Dispose());

    private byte[] RandomBytes(int length)
    {
        byte[] bytes = new byte[length];
        _random.NextBytes(bytes);
        return bytes;
    }

    private byte[] UnknownVersion()
    {
        byte[] datagram = RandomBytes(1200);
        datagram[0] = 0xc0;
        BinaryPrimitives.WriteUInt32BigEndian(datagram.AsSpan(1), 0x1a2a3a4a);
        datagram[5] = 21;
        datagram[6 + 21] = 20;
        return datagram;
    }

    private byte[] ShortHeader()
    {
        byte[] datagram = RandomBytes(21 + _random.Next(100));
        datagram[0] = (byte)(0x40 | (datagram[0] & 0x3f));
        return datagram;
    }

    /// <summary>A client Initial to <paramref name="destination"/> whose CRYPTO frame starts at <paramref name="offset"/> (never 0: no ClientHello ever completes).</summary>
    private static byte[] Initial(byte[] destination, ulong offset)
    {
        byte[] source = RandomNumberGenerator.GetBytes(8);
        using var keys = new PacketProtection(PacketKeys.FromSecret(CipherSuite.Aes128GcmSha256, InitialSecrets.Derive(1, destination).Client));
        int headerLength = 1 + 4 + 1 + destination.Length + 1 + source.Length + 1 + 2;
        byte[] payload = new byte[1200 - headerLength - 4 - PacketProtection.TagLength];
        var writer = new FrameWriter(payload);
        writer.Crypto(offset, new byte[1_000]);
        byte[] packet = new byte[1200];
        int position = LongHeaderWriter.Write(packet, 0xc3, 1, destination, source);
        packet[position++] = 0; // no token
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(position), (ushort)(0x4000 | (4 + payload.Length + PacketProtection.TagLength)));
        position += 2;
        BinaryPrimitives.WriteUInt32BigEndian(packet.AsSpan(position), 0);
        payload.CopyTo(packet, position + 4);
        keys.Protect(packet, position, 4, 0, payload.Length);
        return packet;
    }
}
