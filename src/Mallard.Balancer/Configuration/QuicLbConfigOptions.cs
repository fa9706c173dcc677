namespace Mallard.Balancer.Configuration;

/// <summary>
/// One entry of <c>Mallard:Balancer:Configs</c> as written in JSON or environment variables,
/// before validation turns it into a <see cref="Mallard.QuicLb.QuicLbConfig"/>.
/// </summary>
public sealed class QuicLbConfigOptions
{
    /// <summary>Config rotation codepoint, 0 to 6. Required.</summary>
    public int? Id { get; set; }

    /// <summary>Server ID length in octets, 1 to 15. Required.</summary>
    public int? ServerIdLength { get; set; }

    /// <summary>Nonce length in octets, 4 to 18; server ID + nonce at most 19. Required.</summary>
    public int? NonceLength { get; set; }

    /// <summary>AES-128 key as 32 hex digits; absent for plaintext connection IDs.</summary>
    public string? Key { get; set; }

    /// <summary>Whether servers self-encode the connection ID length in the first octet.</summary>
    public bool EncodeLength { get; set; }
}
