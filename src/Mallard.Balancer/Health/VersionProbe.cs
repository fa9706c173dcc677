using System.Buffers.Binary;
using Mallard.QuicLb.Invariants;

namespace Mallard.Balancer.Health;

/// <summary>
/// The active health probe: a long-header packet with a reserved version of the form 0x?a?a?a?a,
/// which no server supports, so every QUIC server must answer it with Version Negotiation
/// (RFC 9000 section 6.1 and 15). It needs nothing from the backend: no certificate, no ALPN.
/// </summary>
internal static class VersionProbe
{
    /// <summary>Probes fill a datagram to the size that obliges a server to answer (RFC 9000 section 14.1).</summary>
    public const int Size = 1200;

    public const int ConnectionIdLength = 8;

    /// <summary>Writes a probe into <paramref name="packet"/> (at least <see cref="Size"/> octets) and returns its length.</summary>
    public static int Write(Span<byte> packet, uint randomVersionBits, ReadOnlySpan<byte> destinationConnectionId, ReadOnlySpan<byte> sourceConnectionId)
    {
        packet = packet[..Size];
        packet.Clear();
        packet[0] = 0xc0;
        BinaryPrimitives.WriteUInt32BigEndian(packet[1..], ReservedVersion(randomVersionBits));
        packet[5] = (byte)destinationConnectionId.Length;
        destinationConnectionId.CopyTo(packet[6..]);
        int offset = 6 + destinationConnectionId.Length;
        packet[offset] = (byte)sourceConnectionId.Length;
        sourceConnectionId.CopyTo(packet[(offset + 1)..]);
        return Size;
    }

    /// <summary>A version of the reserved form 0x?a?a?a?a (RFC 9000 section 15), never 0x0a0a0a0a's neighbours by accident.</summary>
    public static uint ReservedVersion(uint randomBits) => (randomBits & 0xf0f0f0f0) | 0x0a0a0a0a;

    /// <summary>
    /// Whether <paramref name="response"/> is Version Negotiation answering our probe: it echoes
    /// our source connection ID as its destination and our destination as its source (RFC 9000
    /// section 17.2.1).
    /// </summary>
    public static bool IsAnswer(ReadOnlySpan<byte> response, ReadOnlySpan<byte> probeDestination, ReadOnlySpan<byte> probeSource) =>
        QuicHeaderReader.TryRead(response, 0, out QuicPacketHeader header) == QuicHeaderError.None
        && header.PacketType == QuicPacketType.VersionNegotiation
        && header.DestinationConnectionId.SequenceEqual(probeSource)
        && header.SourceConnectionId.SequenceEqual(probeDestination);
}
