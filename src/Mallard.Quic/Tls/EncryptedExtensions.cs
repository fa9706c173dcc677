namespace Mallard.Quic.Tls;

/// <summary>EncryptedExtensions (RFC 8446 section 4.3.1): in QUIC it carries ALPN and the server's transport parameters.</summary>
internal sealed class EncryptedExtensions
{
    /// <summary>Extensions in the order they appear.</summary>
    public required IReadOnlyList<TlsExtension> Extensions { get; init; }

    /// <summary>The extension of <paramref name="type"/>, if present.</summary>
    public TlsExtension? Find(ushort type) => Extensions.FirstOrDefault(e => e.Type == type);

    /// <summary>Parses the whole message (with its header), or returns the alert to send.</summary>
    public static EncryptedExtensions? TryParse(ReadOnlySpan<byte> message, out TlsAlert alert)
    {
        alert = TlsAlert.DecodeError;
        var reader = new TlsReader(message);
        if (!reader.Byte(out byte type) || type != (byte)HandshakeType.EncryptedExtensions || !reader.Vector(3, out ReadOnlySpan<byte> body) || !reader.IsEmpty)
        {
            return null;
        }

        var fields = new TlsReader(body);
        if (!fields.Vector(2, out ReadOnlySpan<byte> extensions) || !fields.IsEmpty)
        {
            return null;
        }

        List<TlsExtension>? parsed = ClientHello.ParseExtensions(extensions, ref alert);
        return parsed is null ? null : new EncryptedExtensions { Extensions = parsed };
    }

    /// <summary>The message with its header.</summary>
    public byte[] Encode() => TlsWriter.Message(HandshakeType.EncryptedExtensions, w => ClientHello.WriteExtensions(w, Extensions));

    /// <summary>The single protocol the server selected (RFC 7301 section 3.1), or null when absent or malformed.</summary>
    public string? SelectedApplicationProtocol()
    {
        if (Find(TlsExtension.Alpn) is not TlsExtension extension)
        {
            return null;
        }

        var reader = new TlsReader(extension.Data);
        if (!reader.Vector(2, out ReadOnlySpan<byte> list) || !reader.IsEmpty)
        {
            return null;
        }

        var items = new TlsReader(list);
        return items.Vector(1, out ReadOnlySpan<byte> name) && items.IsEmpty && !name.IsEmpty ? System.Text.Encoding.ASCII.GetString(name) : null;
    }
}
