namespace Mallard.Quic.Connections;

/// <summary>
/// Makes the connection IDs an endpoint issues (RFC 9000 section 5.1). The seam through which a
/// server puts its QUIC-LB server ID into every CID. All CIDs of one endpoint have the same
/// length, because short headers do not carry it.
/// </summary>
public interface IConnectionIdGenerator
{
    /// <summary>The length of every connection ID made, 0 to 20.</summary>
    int ConnectionIdLength { get; }

    /// <summary>A new connection ID, unique among the endpoint's live ones with high probability.</summary>
    byte[] NewConnectionId();

    /// <summary>
    /// Whether <paramref name="connectionId"/> names another server (QUIC-LB): a packet for it
    /// reached this one by mistake, and is dropped rather than answered with a stateless reset,
    /// which the client would accept from a fleet that shares its reset key and lose a connection
    /// another server holds (steering mode). False unless the generator can tell.
    /// </summary>
    bool IsForeign(ReadOnlySpan<byte> connectionId) => false;
}
