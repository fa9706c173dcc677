using System.Buffers.Binary;
using System.Reflection;
using Mallard.Quic.Connections;
using Mallard.Quic.Crypto;
using Mallard.Quic.Frames;
using Mallard.Quic.Packets;
using Mallard.QuicLb.Invariants;

namespace Mallard.Quic.Tests.TestSupport;

/// <summary>
/// Builds protected packets that carry whatever frames a test wants, as a hostile peer would:
/// client Initials for any connection ID (their keys are public, RFC 9001 section 5.2), and 0-RTT
/// and 1-RTT packets sealed with a connection's own keys.
/// </summary>
internal static class PacketForge
{
    private const int PacketNumberLength = 4;

    /// <summary>Frames written with a <see cref="FrameWriter"/>.</summary>
    public delegate void Frames(ref FrameWriter writer);

    /// <summary>A client Initial datagram (padded to 1200 octets) to <paramref name="destination"/> carrying <paramref name="frames"/>.</summary>
    public static byte[] Initial(byte[] destination, byte[] source, ulong packetNumber, Frames frames)
    {
        using var keys = new PacketProtection(PacketKeys.FromSecret(CipherSuite.Aes128GcmSha256, InitialSecrets.Derive(QuicVersion.V1, destination).Client));
        int headerLength = 1 + 4 + 1 + destination.Length + 1 + source.Length + 1 + 2;
        byte[] payload = Payload(frames, minimum: Connection.MinimumInitialDatagramSize - headerLength - PacketNumberLength - PacketProtection.TagLength);
        byte[] packet = new byte[headerLength + PacketNumberLength + payload.Length + PacketProtection.TagLength];
        int position = LongHeaderWriter.Write(packet, 0xc0 | (PacketNumberLength - 1), QuicVersion.V1, destination, source);
        packet[position++] = 0; // no token
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(position), (ushort)(0x4000 | (PacketNumberLength + payload.Length + PacketProtection.TagLength)));
        position += 2;
        return Seal(keys, packet, position, packetNumber, payload);
    }

    /// <summary>A 1-RTT packet from <paramref name="sender"/> to its peer carrying <paramref name="frames"/>; uses up one of its packet numbers.</summary>
    public static byte[] OneRtt(Connection sender, Frames frames) => OneRtt(sender, Payload(frames, minimum: 16));

    /// <summary>A 1-RTT packet from <paramref name="sender"/> carrying <paramref name="payload"/> as its frames, whatever they are.</summary>
    public static byte[] OneRtt(Connection sender, byte[] payload)
    {
        PacketSpace space = Field<PacketSpace[]>(sender, "_spaces")[2];
        byte[] peerConnectionId = sender.DestinationConnectionId;
        int keyPhase = sender.KeyPhase;
        if (payload.Length < 16)
        {
            Array.Resize(ref payload, 16); // room for the header protection sample, as PADDING
        }

        byte[] packet = new byte[1 + peerConnectionId.Length + PacketNumberLength + payload.Length + PacketProtection.TagLength];
        packet[0] = (byte)(0x40 | (keyPhase << 2) | (PacketNumberLength - 1));
        peerConnectionId.CopyTo(packet, 1);
        ulong packetNumber = space.NextPacketNumber++;
        return Seal(space.SendKeys!, packet, 1 + peerConnectionId.Length, packetNumber, payload);
    }

    /// <summary>A 0-RTT packet from a client still sending them (RFC 9000 section 17.2.3), carrying <paramref name="frames"/>; uses up one of its packet numbers.</summary>
    public static byte[] ZeroRtt(Connection client, Frames frames)
    {
        PacketSpace space = Field<PacketSpace[]>(client, "_spaces")[2];
        byte[] payload = Payload(frames, minimum: 16);
        byte[] destination = client.DestinationConnectionId;
        byte[] source = client.LocalConnectionIds.First();
        int headerLength = 1 + 4 + 1 + destination.Length + 1 + source.Length + 2;
        byte[] packet = new byte[headerLength + PacketNumberLength + payload.Length + PacketProtection.TagLength];
        int position = LongHeaderWriter.Write(packet, 0xc0 | (1 << 4) | (PacketNumberLength - 1), QuicVersion.V1, destination, source);
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(position), (ushort)(0x4000 | (PacketNumberLength + payload.Length + PacketProtection.TagLength)));
        position += 2;
        return Seal(space.SendKeys!, packet, position, space.NextPacketNumber++, payload);
    }

    private static byte[] Payload(Frames frames, int minimum)
    {
        byte[] buffer = new byte[1400];
        var writer = new FrameWriter(buffer);
        frames(ref writer);
        int length = Math.Max(writer.Length, minimum); // the rest is PADDING (zeros)
        return buffer[..length];
    }

    private static byte[] Seal(PacketProtection keys, byte[] packet, int packetNumberOffset, ulong packetNumber, byte[] payload)
    {
        BinaryPrimitives.WriteUInt32BigEndian(packet.AsSpan(packetNumberOffset), (uint)packetNumber);
        payload.CopyTo(packet, packetNumberOffset + PacketNumberLength);
        keys.Protect(packet, packetNumberOffset, PacketNumberLength, packetNumber, payload.Length);
        return packet;
    }

    private static T Field<T>(Connection connection, string name) =>
        (T)typeof(Connection).GetField(name, BindingFlags.NonPublic | BindingFlags.Instance)!.GetValue(connection)!;
}
