namespace Mallard.Quic.Tls;

/// <summary>A TLS 1.3 ClientHello (RFC 8446 section 4.1.2) with accessors for the extensions QUIC needs.</summary>
internal sealed class ClientHello
{
    /// <summary>The 32-octet client random.</summary>
    public required byte[] Random { get; init; }

    /// <summary>legacy_session_id (empty in QUIC, RFC 9001 section 8.4).</summary>
    public byte[] LegacySessionId { get; init; } = [];

    /// <summary>Offered cipher suites, in preference order.</summary>
    public required IReadOnlyList<ushort> CipherSuites { get; init; }

    /// <summary>Extensions in the order they appear.</summary>
    public required IReadOnlyList<TlsExtension> Extensions { get; init; }

    /// <summary>The extension of <paramref name="type"/>, if present.</summary>
    public TlsExtension? Find(ushort type) => Extensions.FirstOrDefault(e => e.Type == type);

    /// <summary>Parses a whole ClientHello message (with its 4-octet header), or returns the alert to send.</summary>
    public static ClientHello? TryParse(ReadOnlySpan<byte> message, out TlsAlert alert)
    {
        alert = TlsAlert.DecodeError;
        var reader = new TlsReader(message);
        if (!reader.Byte(out byte type) || type != (byte)HandshakeType.ClientHello || !reader.Vector(3, out ReadOnlySpan<byte> body) || !reader.IsEmpty)
        {
            return null;
        }

        var fields = new TlsReader(body);
        if (!fields.UInt16(out _) || !fields.Bytes(32, out ReadOnlySpan<byte> random) || !fields.Vector(1, out ReadOnlySpan<byte> sessionId)
            || sessionId.Length > 32 || !fields.Vector(2, out ReadOnlySpan<byte> suites) || suites.Length % 2 != 0 || suites.IsEmpty
            || !fields.Vector(1, out ReadOnlySpan<byte> compression) || !fields.Vector(2, out ReadOnlySpan<byte> extensions) || !fields.IsEmpty)
        {
            return null;
        }

        if (compression.Length != 1 || compression[0] != 0)
        {
            alert = TlsAlert.IllegalParameter;
            return null;
        }

        List<TlsExtension>? parsed = ParseExtensions(extensions, ref alert);
        if (parsed is null)
        {
            return null;
        }

        var cipherSuites = new ushort[suites.Length / 2];
        for (int i = 0; i < cipherSuites.Length; i++)
        {
            cipherSuites[i] = TlsWriter.ReadUInt16(suites[(2 * i)..]);
        }

        return new ClientHello { Random = random.ToArray(), LegacySessionId = sessionId.ToArray(), CipherSuites = cipherSuites, Extensions = parsed };
    }

    /// <summary>The message with its 4-octet header.</summary>
    public byte[] Encode() => TlsWriter.Message(HandshakeType.ClientHello, w =>
    {
        w.UInt16(0x0303);
        w.Bytes(Random);
        w.Vector(1, v => v.Bytes(LegacySessionId));
        w.Vector(2, v =>
        {
            foreach (ushort suite in CipherSuites)
            {
                v.UInt16(suite);
            }
        });
        w.Vector(1, v => v.Byte(0));
        WriteExtensions(w, Extensions);
    });

    /// <summary>The (group, key) pairs of key_share, or null when it is absent or malformed.</summary>
    public IReadOnlyList<(ushort Group, byte[] Key)>? KeyShares()
    {
        if (Find(TlsExtension.KeyShare) is not TlsExtension extension)
        {
            return null;
        }

        var outer = new TlsReader(extension.Data);
        if (!outer.Vector(2, out ReadOnlySpan<byte> list) || !outer.IsEmpty)
        {
            return null;
        }

        var shares = new List<(ushort, byte[])>();
        var reader = new TlsReader(list);
        while (!reader.IsEmpty)
        {
            if (!reader.UInt16(out ushort group) || !reader.Vector(2, out ReadOnlySpan<byte> key) || key.IsEmpty)
            {
                return null;
            }

            shares.Add((group, key.ToArray()));
        }

        return shares;
    }

    /// <summary>The versions of supported_versions, or null when absent or malformed.</summary>
    public IReadOnlyList<ushort>? SupportedVersions() => UInt16List(TlsExtension.SupportedVersions, 1);

    /// <summary>The groups of supported_groups.</summary>
    public IReadOnlyList<ushort>? SupportedGroups() => UInt16List(TlsExtension.SupportedGroups, 2);

    /// <summary>The schemes of signature_algorithms.</summary>
    public IReadOnlyList<ushort>? SignatureAlgorithms() => UInt16List(TlsExtension.SignatureAlgorithms, 2);

    /// <summary>The host name of server_name, or null.</summary>
    public string? ServerName()
    {
        if (Find(TlsExtension.ServerName) is not TlsExtension extension)
        {
            return null;
        }

        var reader = new TlsReader(extension.Data);
        if (!reader.Vector(2, out ReadOnlySpan<byte> list))
        {
            return null;
        }

        var names = new TlsReader(list);
        return names.Byte(out byte nameType) && nameType == 0 && names.Vector(2, out ReadOnlySpan<byte> host) && !host.IsEmpty
            ? System.Text.Encoding.ASCII.GetString(host) : null;
    }

    /// <summary>The protocols of application_layer_protocol_negotiation, or null.</summary>
    public IReadOnlyList<string>? ApplicationProtocols()
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

        var protocols = new List<string>();
        var items = new TlsReader(list);
        while (!items.IsEmpty)
        {
            if (!items.Vector(1, out ReadOnlySpan<byte> name) || name.IsEmpty)
            {
                return null;
            }

            protocols.Add(System.Text.Encoding.ASCII.GetString(name));
        }

        return protocols;
    }

    /// <summary>psk_key_exchange_modes, or null when absent or malformed.</summary>
    public byte[]? PskKeyExchangeModes()
    {
        var reader = new TlsReader(Find(TlsExtension.PskKeyExchangeModes)?.Data ?? []);
        return reader.Vector(1, out ReadOnlySpan<byte> modes) && reader.IsEmpty ? modes.ToArray() : null;
    }

    /// <summary>
    /// The first identity of pre_shared_key (ticket and obfuscated age), its binder, and the length
    /// of the binders at the end of the message (which the binder does not cover); null when
    /// absent; <paramref name="malformed"/> when present but not well-formed or not last (RFC 8446 section 4.2.11).
    /// </summary>
    public (byte[] Ticket, uint ObfuscatedAge, byte[] Binder, int BindersLength)? PreSharedKey(out bool malformed)
    {
        malformed = false;
        if (Find(TlsExtension.PreSharedKey) is not TlsExtension extension)
        {
            return null;
        }

        var reader = new TlsReader(extension.Data);
        if (Extensions[^1].Type != TlsExtension.PreSharedKey || !reader.Vector(2, out ReadOnlySpan<byte> identities) || !reader.Vector(2, out ReadOnlySpan<byte> binders) || !reader.IsEmpty)
        {
            malformed = true;
            return null;
        }

        var identity = new TlsReader(identities);
        var binder = new TlsReader(binders);
        if (!identity.Vector(2, out ReadOnlySpan<byte> ticket) || ticket.IsEmpty || !identity.Bytes(4, out ReadOnlySpan<byte> age) || !binder.Vector(1, out ReadOnlySpan<byte> firstBinder) || firstBinder.Length < 32)
        {
            malformed = true;
            return null;
        }

        return (ticket.ToArray(), System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(age), firstBinder.ToArray(), 2 + binders.Length);
    }

    internal static List<TlsExtension>? ParseExtensions(ReadOnlySpan<byte> extensions, ref TlsAlert alert)
    {
        var parsed = new List<TlsExtension>();
        var seen = new HashSet<ushort>();
        var reader = new TlsReader(extensions);
        while (!reader.IsEmpty)
        {
            if (!reader.UInt16(out ushort type) || !reader.Vector(2, out ReadOnlySpan<byte> data))
            {
                alert = TlsAlert.DecodeError;
                return null;
            }

            if (!seen.Add(type))
            {
                // The same extension twice is illegal (RFC 8446 section 4.2).
                alert = TlsAlert.IllegalParameter;
                return null;
            }

            parsed.Add(new TlsExtension(type, data.ToArray()));
        }

        return parsed;
    }

    internal static void WriteExtensions(TlsWriter writer, IEnumerable<TlsExtension> extensions) => writer.Vector(2, v =>
    {
        foreach (TlsExtension extension in extensions)
        {
            v.UInt16(extension.Type);
            v.Vector(2, d => d.Bytes(extension.Data));
        }
    });

    private IReadOnlyList<ushort>? UInt16List(ushort type, int lengthOctets)
    {
        if (Find(type) is not TlsExtension extension)
        {
            return null;
        }

        var reader = new TlsReader(extension.Data);
        if (!reader.Vector(lengthOctets, out ReadOnlySpan<byte> list) || !reader.IsEmpty || list.Length % 2 != 0)
        {
            return null;
        }

        var values = new ushort[list.Length / 2];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = TlsWriter.ReadUInt16(list[(2 * i)..]);
        }

        return values;
    }
}
