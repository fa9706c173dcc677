using System.Buffers.Binary;

namespace Mallard.Quic.Tls;

/// <summary>
/// A NewSessionTicket message (RFC 8446 section 4.6.1), sent by a server after the handshake.
/// With <see cref="AllowsEarlyData"/> it carries the early_data extension, whose
/// max_early_data_size is always 0xffffffff in QUIC (RFC 9001 section 4.6.1).
/// </summary>
internal sealed record NewSessionTicketMessage(uint LifetimeSeconds, uint AgeAdd, byte[] Nonce, byte[] Ticket, bool AllowsEarlyData = false)
{
    /// <summary>The longest lifetime a ticket may have: seven days (section 4.6.1).</summary>
    public const uint MaxLifetimeSeconds = 7 * 24 * 3600;

    /// <summary>The only max_early_data_size QUIC allows (RFC 9001 section 4.6.1).</summary>
    public const uint QuicMaxEarlyDataSize = 0xffffffff;

    /// <summary>The message with its 4-octet header.</summary>
    public byte[] Encode() => TlsWriter.Message(HandshakeType.NewSessionTicket, w =>
    {
        Span<byte> number = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(number, LifetimeSeconds);
        w.Bytes(number);
        BinaryPrimitives.WriteUInt32BigEndian(number, AgeAdd);
        w.Bytes(number);
        w.Vector(1, v => v.Bytes(Nonce));
        w.Vector(2, v => v.Bytes(Ticket));
        bool earlyData = AllowsEarlyData;
        w.Vector(2, extensions =>
        {
            if (earlyData)
            {
                extensions.UInt16(TlsExtension.EarlyData);
                extensions.Vector(2, e => { e.UInt16(0xffff); e.UInt16(0xffff); });
            }
        });
    });

    /// <summary>
    /// Parses a whole message (with its header); null when malformed or the lifetime is above
    /// seven days. <paramref name="badEarlyDataSize"/> is set for an early_data extension with a
    /// size other than 0xffffffff, which QUIC makes a PROTOCOL_VIOLATION (RFC 9001 section 4.6.1).
    /// </summary>
    public static NewSessionTicketMessage? TryParse(ReadOnlySpan<byte> message, out bool badEarlyDataSize)
    {
        badEarlyDataSize = false;
        var reader = new TlsReader(message);
        if (!reader.Byte(out byte type) || type != (byte)HandshakeType.NewSessionTicket || !reader.Vector(3, out ReadOnlySpan<byte> body) || !reader.IsEmpty)
        {
            return null;
        }

        var fields = new TlsReader(body);
        if (!fields.Bytes(4, out ReadOnlySpan<byte> lifetime) || !fields.Bytes(4, out ReadOnlySpan<byte> ageAdd) || !fields.Vector(1, out ReadOnlySpan<byte> nonce)
            || !fields.Vector(2, out ReadOnlySpan<byte> ticket) || ticket.IsEmpty || !fields.Vector(2, out ReadOnlySpan<byte> extensions) || !fields.IsEmpty)
        {
            return null;
        }

        bool allowsEarlyData = false;
        var list = new TlsReader(extensions);
        while (!list.IsEmpty)
        {
            if (!list.UInt16(out ushort extensionType) || !list.Vector(2, out ReadOnlySpan<byte> data))
            {
                return null;
            }

            if (extensionType != TlsExtension.EarlyData)
            {
                continue; // unknown extensions in a NewSessionTicket are ignored (section 4.6.1)
            }

            if (data.Length != 4 || allowsEarlyData)
            {
                return null; // malformed, or a second early_data (one of each type per block, RFC 8446 section 4.2)
            }

            if (BinaryPrimitives.ReadUInt32BigEndian(data) != QuicMaxEarlyDataSize)
            {
                badEarlyDataSize = true;
                return null;
            }

            allowsEarlyData = true;
        }

        uint seconds = BinaryPrimitives.ReadUInt32BigEndian(lifetime);
        return seconds > MaxLifetimeSeconds ? null : new NewSessionTicketMessage(seconds, BinaryPrimitives.ReadUInt32BigEndian(ageAdd), nonce.ToArray(), ticket.ToArray(), allowsEarlyData);
    }
}
