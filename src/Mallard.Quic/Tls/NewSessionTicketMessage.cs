using System.Buffers.Binary;

namespace Mallard.Quic.Tls;

/// <summary>A NewSessionTicket message (RFC 8446 section 4.6.1), sent by a server after the handshake.</summary>
internal sealed record NewSessionTicketMessage(uint LifetimeSeconds, uint AgeAdd, byte[] Nonce, byte[] Ticket)
{
    /// <summary>The longest lifetime a ticket may have: seven days (section 4.6.1).</summary>
    public const uint MaxLifetimeSeconds = 7 * 24 * 3600;

    /// <summary>The message with its 4-octet header (no extensions: 0-RTT is not offered).</summary>
    public byte[] Encode() => TlsWriter.Message(HandshakeType.NewSessionTicket, w =>
    {
        Span<byte> number = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(number, LifetimeSeconds);
        w.Bytes(number);
        BinaryPrimitives.WriteUInt32BigEndian(number, AgeAdd);
        w.Bytes(number);
        w.Vector(1, v => v.Bytes(Nonce));
        w.Vector(2, v => v.Bytes(Ticket));
        w.Vector(2, _ => { });
    });

    /// <summary>Parses a whole message (with its header); null when malformed or the lifetime is above seven days.</summary>
    public static NewSessionTicketMessage? TryParse(ReadOnlySpan<byte> message)
    {
        var reader = new TlsReader(message);
        if (!reader.Byte(out byte type) || type != (byte)HandshakeType.NewSessionTicket || !reader.Vector(3, out ReadOnlySpan<byte> body) || !reader.IsEmpty)
        {
            return null;
        }

        var fields = new TlsReader(body);
        if (!fields.Bytes(4, out ReadOnlySpan<byte> lifetime) || !fields.Bytes(4, out ReadOnlySpan<byte> ageAdd) || !fields.Vector(1, out ReadOnlySpan<byte> nonce)
            || !fields.Vector(2, out ReadOnlySpan<byte> ticket) || ticket.IsEmpty || !fields.Vector(2, out _) || !fields.IsEmpty)
        {
            return null;
        }

        uint seconds = BinaryPrimitives.ReadUInt32BigEndian(lifetime);
        return seconds > MaxLifetimeSeconds ? null : new NewSessionTicketMessage(seconds, BinaryPrimitives.ReadUInt32BigEndian(ageAdd), nonce.ToArray(), ticket.ToArray());
    }
}
