using System.Security.Cryptography;

namespace Mallard.Quic.Tls;

/// <summary>A TLS 1.3 ServerHello or HelloRetryRequest (RFC 8446 sections 4.1.3 and 4.1.4).</summary>
internal sealed class ServerHello
{
    /// <summary>The random of a HelloRetryRequest: SHA-256("HelloRetryRequest") (RFC 8446 section 4.1.3).</summary>
    public static ReadOnlySpan<byte> HelloRetryRequestRandom => SHA256.HashData("HelloRetryRequest"u8);

    /// <summary>The 32-octet server random.</summary>
    public required byte[] Random { get; init; }

    /// <summary>The client's legacy_session_id, echoed.</summary>
    public byte[] LegacySessionIdEcho { get; init; } = [];

    /// <summary>The chosen cipher suite.</summary>
    public required ushort CipherSuite { get; init; }

    /// <summary>Extensions in the order they appear.</summary>
    public required IReadOnlyList<TlsExtension> Extensions { get; init; }

    /// <summary>Whether this is a HelloRetryRequest.</summary>
    public bool IsHelloRetryRequest => Random.AsSpan().SequenceEqual(HelloRetryRequestRandom);

    /// <summary>The extension of <paramref name="type"/>, if present.</summary>
    public TlsExtension? Find(ushort type) => Extensions.FirstOrDefault(e => e.Type == type);

    /// <summary>Parses a whole ServerHello message (with its 4-octet header), or returns the alert to send.</summary>
    public static ServerHello? TryParse(ReadOnlySpan<byte> message, out TlsAlert alert)
    {
        alert = TlsAlert.DecodeError;
        var reader = new TlsReader(message);
        if (!reader.Byte(out byte type) || type != (byte)HandshakeType.ServerHello || !reader.Vector(3, out ReadOnlySpan<byte> body) || !reader.IsEmpty)
        {
            return null;
        }

        var fields = new TlsReader(body);
        if (!fields.UInt16(out _) || !fields.Bytes(32, out ReadOnlySpan<byte> random) || !fields.Vector(1, out ReadOnlySpan<byte> sessionId)
            || sessionId.Length > 32 || !fields.UInt16(out ushort suite) || !fields.Byte(out byte compression)
            || !fields.Vector(2, out ReadOnlySpan<byte> extensions) || !fields.IsEmpty)
        {
            return null;
        }

        if (compression != 0)
        {
            alert = TlsAlert.IllegalParameter;
            return null;
        }

        List<TlsExtension>? parsed = ClientHello.ParseExtensions(extensions, ref alert);
        return parsed is null ? null
            : new ServerHello { Random = random.ToArray(), LegacySessionIdEcho = sessionId.ToArray(), CipherSuite = suite, Extensions = parsed };
    }

    /// <summary>The message with its 4-octet header.</summary>
    public byte[] Encode() => TlsWriter.Message(HandshakeType.ServerHello, w =>
    {
        w.UInt16(0x0303);
        w.Bytes(Random);
        w.Vector(1, v => v.Bytes(LegacySessionIdEcho));
        w.UInt16(CipherSuite);
        w.Byte(0);
        ClientHello.WriteExtensions(w, Extensions);
    });

    /// <summary>supported_versions' selected version, or null.</summary>
    public ushort? SelectedVersion() =>
        Find(TlsExtension.SupportedVersions) is TlsExtension { Data.Length: 2 } e ? TlsWriter.ReadUInt16(e.Data) : null;

    /// <summary>key_share: the server's (group, key), or for a HelloRetryRequest the selected group with an empty key.</summary>
    public (ushort Group, byte[] Key)? KeyShare()
    {
        if (Find(TlsExtension.KeyShare) is not TlsExtension extension)
        {
            return null;
        }

        var reader = new TlsReader(extension.Data);
        if (!reader.UInt16(out ushort group))
        {
            return null;
        }

        if (IsHelloRetryRequest)
        {
            return reader.IsEmpty ? (group, []) : null;
        }

        return reader.Vector(2, out ReadOnlySpan<byte> key) && reader.IsEmpty && !key.IsEmpty ? (group, key.ToArray()) : null;
    }
}
