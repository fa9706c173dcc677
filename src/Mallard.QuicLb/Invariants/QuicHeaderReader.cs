using System.Buffers.Binary;

namespace Mallard.QuicLb.Invariants;

/// <summary>
/// Reads the version-invariant fields of a QUIC packet (RFC 8999) without keys: header form,
/// version, connection IDs and, for QUIC v1 and v2, the long-header packet type. Never throws,
/// whatever the bytes; a header it cannot read yields a <see cref="QuicHeaderError"/>.
/// </summary>
public static class QuicHeaderReader
{
    /// <summary>The longest connection ID QUIC v1 and v2 allow (RFC 9000 section 17.2).</summary>
    public const int MaxV1ConnectionIdLength = 20;

    private const byte LongHeaderBit = 0x80;

    /// <summary>Reads the header at the start of <paramref name="datagram"/>.</summary>
    /// <param name="datagram">The UDP payload.</param>
    /// <param name="shortHeaderConnectionIdLength">
    /// The destination connection ID length to assume for a short header, which does not carry
    /// it (RFC 8999 section 5.2). Ignored for long headers.
    /// </param>
    /// <param name="header">The header, when the result is <see cref="QuicHeaderError.None"/>.</param>
    public static QuicHeaderError TryRead(ReadOnlySpan<byte> datagram, int shortHeaderConnectionIdLength, out QuicPacketHeader header)
    {
        header = default;
        if (datagram.IsEmpty)
        {
            return QuicHeaderError.Empty;
        }

        byte first = datagram[0];
        if ((first & LongHeaderBit) == 0)
        {
            if (shortHeaderConnectionIdLength < 0 || datagram.Length - 1 < shortHeaderConnectionIdLength)
            {
                return QuicHeaderError.TruncatedShortHeader;
            }

            header = new QuicPacketHeader(false, 0, QuicPacketType.OneRtt, datagram.Slice(1, shortHeaderConnectionIdLength), default, default);
            return QuicHeaderError.None;
        }

        if (datagram.Length < 5)
        {
            return QuicHeaderError.TruncatedVersion;
        }

        uint version = BinaryPrimitives.ReadUInt32BigEndian(datagram.Slice(1, 4));
        bool knownVersion = version is QuicVersion.V1 or QuicVersion.V2;
        int offset = 5;
        QuicHeaderError error = ReadConnectionId(datagram, ref offset, knownVersion, out Range destinationRange);
        if (error != QuicHeaderError.None)
        {
            return error;
        }

        error = ReadConnectionId(datagram, ref offset, knownVersion, out Range sourceRange);
        if (error != QuicHeaderError.None)
        {
            return error;
        }

        ReadOnlySpan<byte> destination = datagram[destinationRange];
        ReadOnlySpan<byte> source = datagram[sourceRange];
        ReadOnlySpan<byte> rest = datagram[offset..];

        if (version == QuicVersion.Negotiation)
        {
            if (rest.Length % 4 != 0)
            {
                return QuicHeaderError.MalformedVersionList;
            }

            header = new QuicPacketHeader(true, version, QuicPacketType.VersionNegotiation, destination, source, rest);
            return QuicHeaderError.None;
        }

        header = new QuicPacketHeader(true, version, LongPacketType(version, first), destination, source, default);
        return QuicHeaderError.None;
    }

    /// <summary>
    /// The packet type bits of a long header (RFC 9000 section 17.2 for v1; RFC 9369 section 3.2
    /// for v2, which permutes them).
    /// </summary>
    private static QuicPacketType LongPacketType(uint version, byte first)
    {
        int bits = (first >> 4) & 0x3;
        return version switch
        {
            QuicVersion.V1 => bits switch
            {
                0 => QuicPacketType.Initial,
                1 => QuicPacketType.ZeroRtt,
                2 => QuicPacketType.Handshake,
                _ => QuicPacketType.Retry,
            },
            QuicVersion.V2 => bits switch
            {
                0 => QuicPacketType.Retry,
                1 => QuicPacketType.Initial,
                2 => QuicPacketType.ZeroRtt,
                _ => QuicPacketType.Handshake,
            },
            _ => QuicPacketType.Unknown,
        };
    }

    // A one-octet length followed by the connection ID: up to 255 octets in the invariants, up
    // to 20 in the versions we know.
    private static QuicHeaderError ReadConnectionId(ReadOnlySpan<byte> datagram, ref int offset, bool knownVersion, out Range connectionId)
    {
        connectionId = default;
        if (offset >= datagram.Length)
        {
            return QuicHeaderError.TruncatedConnectionIdLength;
        }

        int length = datagram[offset];
        if (knownVersion && length > MaxV1ConnectionIdLength)
        {
            return QuicHeaderError.ConnectionIdTooLong;
        }

        int start = offset + 1;
        if (datagram.Length - start < length)
        {
            return QuicHeaderError.TruncatedConnectionId;
        }

        connectionId = new Range(start, start + length);
        offset = start + length;
        return QuicHeaderError.None;
    }
}
