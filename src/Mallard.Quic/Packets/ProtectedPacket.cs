using System.Runtime.InteropServices;
using Mallard.QuicLb.Invariants;

namespace Mallard.Quic.Packets;

/// <summary>
/// Where the parts of one header-protected packet sit in its datagram, as
/// <see cref="ProtectedPacketReader"/> finds them before any key is applied.
/// </summary>
[StructLayout(LayoutKind.Auto)]
internal readonly record struct ProtectedPacket(
    QuicPacketType Form,
    uint Version,
    Range DestinationConnectionId,
    Range SourceConnectionId,
    Range Token,
    int PacketNumberOffset,
    int End)
{
    /// <summary>The packet's own octets within the datagram (several packets can share one, RFC 9000 section 12.2).</summary>
    public Range Packet(int start) => new(start, End);
}
