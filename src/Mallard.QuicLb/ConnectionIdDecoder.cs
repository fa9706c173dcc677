namespace Mallard.QuicLb;

/// <summary>
/// The load balancer's side of QUIC-LB: holds up to seven configurations at once, one per config
/// ID, and extracts the server ID from a destination connection ID (draft-21 section 5). Thread
/// safe and allocation-free; build a new instance to change the configuration set.
/// </summary>
public sealed class ConnectionIdDecoder
{
    private const int Slots = QuicLbConfig.MaxConfigId + 1;

    private readonly QuicLbConfig?[] _configs = new QuicLbConfig?[Slots];
    private readonly QuicLbCipher?[] _ciphers = new QuicLbCipher?[Slots];

    // Per config rotation codepoint (all eight, so indexing by the top three bits needs no bounds
    // check): the server ID length of a plaintext configuration, else 0; the span length its fast
    // path needs (the connection ID, and at least 16 octets after the first for a vector load);
    // and its octet mask.
    private readonly PlaintextSlots _plaintextServerIdLength;
    private readonly PlaintextSlots _plaintextMinimumSpan;
    private readonly MaskSlots _plaintextMask;

    /// <summary>Creates a decoder for the given configurations.</summary>
    /// <exception cref="QuicLbConfigException">Two configurations share a config ID.</exception>
    public ConnectionIdDecoder(IEnumerable<QuicLbConfig> configs)
        : this(configs, allowHardwareAes: true)
    {
    }

    internal ConnectionIdDecoder(IEnumerable<QuicLbConfig> configs, bool allowHardwareAes)
    {
        ArgumentNullException.ThrowIfNull(configs);
        foreach (QuicLbConfig config in configs)
        {
            if (_configs[config.ConfigId] is not null)
            {
                throw new QuicLbConfigException("configId", $"configId {config.ConfigId} appears twice; each config ID can hold one configuration.");
            }

            _configs[config.ConfigId] = config;
            _ciphers[config.ConfigId] = new QuicLbCipher(config, allowHardwareAes);
            if (config.Algorithm == QuicLbAlgorithm.Plaintext)
            {
                _plaintextServerIdLength[config.ConfigId] = (byte)config.ServerIdLength;
                _plaintextMinimumSpan[config.ConfigId] = (byte)Math.Max(17, config.ConnectionIdLength);
                _plaintextMask[config.ConfigId] = ServerId.PrefixMask(config.ServerIdLength);
            }
        }
    }

    /// <summary>The configurations, in config ID order.</summary>
    public IEnumerable<QuicLbConfig> Configs => _configs.OfType<QuicLbConfig>();

    /// <summary>The configuration loaded for <paramref name="configId"/>, or null.</summary>
    public QuicLbConfig? GetConfig(int configId) => (uint)configId < Slots ? _configs[configId] : null;

    /// <summary>
    /// The connection ID length that a packet whose connection ID starts with
    /// <paramref name="firstOctet"/> uses, or -1 when no configuration applies. Short headers do
    /// not carry the length; this is how a balancer finds it.
    /// </summary>
    public int GetConnectionIdLength(byte firstOctet) =>
        GetConfig(firstOctet >> 5)?.ConnectionIdLength ?? -1;

    /// <summary>
    /// Decodes the server ID from <paramref name="connectionId"/>. Octets beyond the
    /// configuration's connection ID length are ignored, so a short header's bytes after the first
    /// can be passed as they are. Never throws.
    /// </summary>
    public QuicLbDecodeResult Decode(ReadOnlySpan<byte> connectionId)
    {
        // Fast path for plaintext configurations when the span runs on for a whole vector (a
        // balancer passes the rest of the datagram): one load and a mask, no call.
        if (connectionId.Length > 16)
        {
            int configId = connectionId[0] >> 5;
            int serverIdLength = _plaintextServerIdLength[configId];
            if (serverIdLength != 0 && connectionId.Length >= _plaintextMinimumSpan[configId])
            {
                return QuicLbDecodeResult.Routable(configId, ServerId.FromPrefix(connectionId[1..], _plaintextMask[configId], serverIdLength));
            }
        }

        return DecodeAny(connectionId);
    }

    private QuicLbDecodeResult DecodeAny(ReadOnlySpan<byte> connectionId)
    {
        if (connectionId.IsEmpty)
        {
            return QuicLbDecodeResult.Unroutable(-1, UnroutableReason.TooShort);
        }

        int configId = connectionId[0] >> 5;
        if (configId == QuicLbConfig.UnroutableConfigId)
        {
            return QuicLbDecodeResult.Unroutable(configId, UnroutableReason.UnroutableConfigId);
        }

        QuicLbCipher? cipher = _ciphers[configId];
        if (cipher is null)
        {
            return QuicLbDecodeResult.Unroutable(configId, UnroutableReason.UnknownConfigId);
        }

        if (connectionId.Length <= cipher.Length)
        {
            return QuicLbDecodeResult.Unroutable(configId, UnroutableReason.TooShort);
        }

        return QuicLbDecodeResult.Routable(configId, cipher.DecryptServerId(connectionId[1..]));
    }

    /// <summary>
    /// Decodes the whole connection ID, writing the nonce to <paramref name="nonce"/> (which must
    /// hold the configuration's nonce length; 18 octets always suffice). Always runs every pass.
    /// </summary>
    /// <returns>The result, and in <paramref name="nonceLength"/> how many nonce octets were written.</returns>
    public QuicLbDecodeResult DecodeWithNonce(ReadOnlySpan<byte> connectionId, Span<byte> nonce, out int nonceLength)
    {
        nonceLength = 0;
        QuicLbDecodeResult result = Decode(connectionId);
        if (!result.IsRoutable)
        {
            return result;
        }

        QuicLbConfig config = _configs[result.ConfigId]!;
        Span<byte> plaintext = stackalloc byte[QuicLbConfig.MaxCombinedLength];
        _ciphers[result.ConfigId]!.Decrypt(connectionId[1..], plaintext);
        plaintext.Slice(config.ServerIdLength, config.NonceLength).CopyTo(nonce);
        nonceLength = config.NonceLength;
        return result;
    }
}
