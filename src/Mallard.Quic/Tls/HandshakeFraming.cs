namespace Mallard.Quic.Tls;

/// <summary>
/// Splits the CRYPTO stream of one encryption level into handshake messages (RFC 8446 section 4:
/// a type octet and a 24-bit length). Messages may arrive split across CRYPTO frames.
/// </summary>
internal static class HandshakeFraming
{
    /// <summary>Largest message accepted; certificate chains are the big ones.</summary>
    public const int MaxMessageLength = 1 << 16;

    /// <summary>
    /// Reads the message at the start of <paramref name="buffer"/>. Returns false when more data is
    /// needed (<paramref name="tooLarge"/> false) or the message would exceed the limit (true).
    /// </summary>
    public static bool TryRead(ReadOnlySpan<byte> buffer, out HandshakeType type, out ReadOnlySpan<byte> message, out int consumed, out bool tooLarge)
    {
        type = 0;
        message = default;
        consumed = 0;
        tooLarge = false;
        if (buffer.Length < 4)
        {
            return false;
        }

        int length = (buffer[1] << 16) | (buffer[2] << 8) | buffer[3];
        if (length > MaxMessageLength)
        {
            tooLarge = true;
            return false;
        }

        if (buffer.Length < 4 + length)
        {
            return false;
        }

        type = (HandshakeType)buffer[0];
        message = buffer[..(4 + length)];
        consumed = 4 + length;
        return true;
    }
}
