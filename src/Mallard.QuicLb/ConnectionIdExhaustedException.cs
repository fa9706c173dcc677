namespace Mallard.QuicLb;

/// <summary>
/// Every nonce of an encrypted configuration has been issued for this server ID; issuing another
/// would repeat a connection ID under the same key (draft-21 section 5.3, "Server Actions").
/// Rotate to a new configuration or key.
/// </summary>
public sealed class ConnectionIdExhaustedException : InvalidOperationException
{
    /// <summary>Creates the exception.</summary>
    public ConnectionIdExhaustedException(string message)
        : base(message)
    {
    }
}
