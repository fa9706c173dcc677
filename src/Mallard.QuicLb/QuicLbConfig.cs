using System.Globalization;

namespace Mallard.QuicLb;

/// <summary>
/// One QUIC-LB configuration: the parameters a configuration agent shares between the servers
/// that issue connection IDs and the load balancers that decode them
/// (draft-ietf-quic-load-balancers-21, sections 3 and 5). Immutable; the constructor validates
/// every parameter and throws <see cref="QuicLbConfigException"/> naming the one that is wrong.
/// </summary>
public sealed class QuicLbConfig
{
    /// <summary>Largest usable config ID; 0b111 is reserved for unroutable connection IDs (section 3.1).</summary>
    public const int MaxConfigId = 6;

    /// <summary>The config rotation codepoint that marks a connection ID as unroutable (section 3.1).</summary>
    public const int UnroutableConfigId = 7;

    /// <summary>Smallest server ID length in octets.</summary>
    public const int MinServerIdLength = 1;

    /// <summary>Largest server ID length in octets.</summary>
    public const int MaxServerIdLength = 15;

    /// <summary>Smallest nonce length in octets.</summary>
    public const int MinNonceLength = 4;

    /// <summary>Largest nonce length in octets.</summary>
    public const int MaxNonceLength = 18;

    /// <summary>Largest server ID + nonce, so that the whole connection ID fits QUIC v1's 20 octets.</summary>
    public const int MaxCombinedLength = 19;

    /// <summary>AES-128 key length in octets.</summary>
    public const int KeyLength = 16;

    private readonly byte[]? _key;

    /// <summary>Creates and validates a configuration.</summary>
    /// <param name="configId">Config rotation codepoint, 0 to 6.</param>
    /// <param name="serverIdLength">Server ID length in octets, 1 to 15.</param>
    /// <param name="nonceLength">Nonce length in octets, 4 to 18; server ID + nonce at most 19.</param>
    /// <param name="key">An AES-128 key of exactly 16 octets, or empty for plaintext connection IDs.</param>
    /// <param name="encodeLength">Whether the low five bits of the first octet carry the connection ID length minus one (section 3.2).</param>
    /// <exception cref="QuicLbConfigException">A parameter is out of range.</exception>
    public QuicLbConfig(int configId, int serverIdLength, int nonceLength, ReadOnlySpan<byte> key = default, bool encodeLength = false)
    {
        if (configId is < 0 or > MaxConfigId)
        {
            throw new QuicLbConfigException(nameof(configId), configId == UnroutableConfigId
                ? "configId 7 (0b111) is reserved for unroutable connection IDs; use 0 to 6."
                : Invariant($"configId is {configId}; it must be 0 to {MaxConfigId}."));
        }

        if (serverIdLength is < MinServerIdLength or > MaxServerIdLength)
        {
            throw new QuicLbConfigException(nameof(serverIdLength),
                Invariant($"serverIdLength is {serverIdLength}; it must be {MinServerIdLength} to {MaxServerIdLength} octets."));
        }

        if (nonceLength is < MinNonceLength or > MaxNonceLength)
        {
            throw new QuicLbConfigException(nameof(nonceLength),
                Invariant($"nonceLength is {nonceLength}; it must be {MinNonceLength} to {MaxNonceLength} octets."));
        }

        if (serverIdLength + nonceLength > MaxCombinedLength)
        {
            throw new QuicLbConfigException(nameof(nonceLength),
                Invariant($"serverIdLength + nonceLength is {serverIdLength + nonceLength}; it must be at most {MaxCombinedLength} octets, so that the connection ID fits in 20 octets."));
        }

        if (!key.IsEmpty && key.Length != KeyLength)
        {
            throw new QuicLbConfigException(nameof(key),
                Invariant($"key is {key.Length} octets; it must be exactly {KeyLength} octets (32 hex digits) for AES-128, or absent for plaintext connection IDs."));
        }

        ConfigId = configId;
        ServerIdLength = serverIdLength;
        NonceLength = nonceLength;
        EncodesLength = encodeLength;
        _key = key.IsEmpty ? null : key.ToArray();
        Algorithm = _key is null ? QuicLbAlgorithm.Plaintext
            : serverIdLength + nonceLength == 16 ? QuicLbAlgorithm.SinglePass
            : QuicLbAlgorithm.FourPass;
    }

    /// <summary>Config rotation codepoint carried in the top three bits of the first octet.</summary>
    public int ConfigId { get; }

    /// <summary>Server ID length in octets.</summary>
    public int ServerIdLength { get; }

    /// <summary>Nonce length in octets.</summary>
    public int NonceLength { get; }

    /// <summary>Whether the first octet self-encodes the connection ID length.</summary>
    public bool EncodesLength { get; }

    /// <summary>The protection this configuration uses.</summary>
    public QuicLbAlgorithm Algorithm { get; }

    /// <summary>Whether the configuration has a key.</summary>
    public bool HasKey => _key is not null;

    /// <summary>The AES-128 key, empty when the configuration is plaintext.</summary>
    public ReadOnlySpan<byte> Key => _key;

    /// <summary>Total connection ID length: the first octet, the server ID and the nonce.</summary>
    public int ConnectionIdLength => 1 + ServerIdLength + NonceLength;

    /// <inheritdoc />
    public override string ToString() => Invariant(
        $"config {ConfigId}: server ID {ServerIdLength} B, nonce {NonceLength} B, {Algorithm}{(EncodesLength ? ", length encoded" : string.Empty)}");

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
