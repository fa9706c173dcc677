namespace Mallard.QuicLb;

/// <summary>How a QUIC-LB configuration protects the server ID (draft-ietf-quic-load-balancers-21, section 5).</summary>
public enum QuicLbAlgorithm
{
    /// <summary>No key: server ID and nonce appear in the clear (section 5.2).</summary>
    Plaintext,

    /// <summary>Key and server ID + nonce of exactly 16 octets: one AES-128-ECB block (section 5.3.1).</summary>
    SinglePass,

    /// <summary>Key and any other length: the four-pass Feistel construction over AES-128 (section 5.3.2).</summary>
    FourPass,
}
