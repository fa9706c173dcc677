namespace Mallard.Quic.Tls;

/// <summary>The CertificateVerify message (RFC 8446 section 4.4.3): a signature scheme and a signature.</summary>
internal static class CertificateVerifyMessage
{
    public static byte[] Encode(ushort scheme, byte[] signature) => TlsWriter.Message(HandshakeType.CertificateVerify, w =>
    {
        w.UInt16(scheme);
        w.Vector(2, s => s.Bytes(signature));
    });

    public static bool TryParse(ReadOnlySpan<byte> message, out ushort scheme, out byte[] signature)
    {
        scheme = 0;
        signature = [];
        var reader = new TlsReader(message);
        if (!reader.Byte(out byte type) || type != (byte)HandshakeType.CertificateVerify || !reader.Vector(3, out ReadOnlySpan<byte> body) || !reader.IsEmpty)
        {
            return false;
        }

        var fields = new TlsReader(body);
        if (!fields.UInt16(out scheme) || !fields.Vector(2, out ReadOnlySpan<byte> value) || !fields.IsEmpty || value.IsEmpty)
        {
            return false;
        }

        signature = value.ToArray();
        return true;
    }
}
