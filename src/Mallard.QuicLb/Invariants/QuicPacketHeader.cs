using System.Buffers.Binary;

namespace Mallard.QuicLb.Invariants;

/// <summary>
/// The version-independent fields of a QUIC packet header (RFC 8999), as views into the datagram
/// that was read. A <c>ref struct</c>: reading it allocates nothing.
/// </summary>
public readonly ref struct QuicPacketHeader
{
    internal QuicPacketHeader(
        bool isLongHeader,
        uint version,
        QuicPacketType packetType,
        ReadOnlySpan<byte> destinationConnectionId,
        ReadOnlySpan<byte> sourceConnectionId,
        ReadOnlySpan<byte> supportedVersions)
    {
        IsLongHeader = isLongHeader;
        Version = version;
        PacketType = packetType;
        DestinationConnectionId = destinationConnectionId;
        SourceConnectionId = sourceConnectionId;
        SupportedVersionOctets = supportedVersions;
    }

    /// <summary>Whether the header form bit is set (RFC 8999 section 5.1).</summary>
    public bool IsLongHeader { get; }

    /// <summary>The version of a long header; 0 for Version Negotiation and for short headers.</summary>
    public uint Version { get; }

    /// <summary>The packet type, for QUIC v1 and v2 long headers, Version Negotiation and short headers.</summary>
    public QuicPacketType PacketType { get; }

    /// <summary>The destination connection ID.</summary>
    public ReadOnlySpan<byte> DestinationConnectionId { get; }

    /// <summary>The source connection ID of a long header; empty for a short header.</summary>
    public ReadOnlySpan<byte> SourceConnectionId { get; }

    /// <summary>The raw supported-versions list of a Version Negotiation packet (4 octets each).</summary>
    public ReadOnlySpan<byte> SupportedVersionOctets { get; }

    /// <summary>How many versions a Version Negotiation packet lists.</summary>
    public int SupportedVersionCount => SupportedVersionOctets.Length / 4;

    /// <summary>The <paramref name="index"/>th version a Version Negotiation packet lists.</summary>
    public uint GetSupportedVersion(int index) =>
        BinaryPrimitives.ReadUInt32BigEndian(SupportedVersionOctets.Slice(4 * index, 4));
}
