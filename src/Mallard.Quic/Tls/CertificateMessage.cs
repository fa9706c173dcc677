namespace Mallard.Quic.Tls;

/// <summary>The Certificate message (RFC 8446 section 4.4.2): DER certificates, end entity first, without per-entry extensions.</summary>
internal static class CertificateMessage
{
    public static byte[] Encode(IReadOnlyList<byte[]> chain) => TlsWriter.Message(HandshakeType.Certificate, w =>
    {
        w.Vector(1, _ => { });
        w.Vector(3, list =>
        {
            foreach (byte[] certificate in chain)
            {
                list.Vector(3, c => c.Bytes(certificate));
                list.Vector(2, _ => { });
            }
        });
    });

    /// <summary>The DER certificates, or null when malformed (decode_error) or empty.</summary>
    public static List<byte[]>? TryParse(ReadOnlySpan<byte> message)
    {
        var reader = new TlsReader(message);
        if (!reader.Byte(out byte type) || type != (byte)HandshakeType.Certificate || !reader.Vector(3, out ReadOnlySpan<byte> body) || !reader.IsEmpty)
        {
            return null;
        }

        var fields = new TlsReader(body);
        if (!fields.Vector(1, out _) || !fields.Vector(3, out ReadOnlySpan<byte> list) || !fields.IsEmpty)
        {
            return null;
        }

        var chain = new List<byte[]>();
        var entries = new TlsReader(list);
        while (!entries.IsEmpty)
        {
            if (!entries.Vector(3, out ReadOnlySpan<byte> certificate) || certificate.IsEmpty || !entries.Vector(2, out _))
            {
                return null;
            }

            chain.Add(certificate.ToArray());
        }

        return chain.Count == 0 ? null : chain;
    }
}
