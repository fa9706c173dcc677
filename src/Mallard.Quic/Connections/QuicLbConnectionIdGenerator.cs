using Mallard.QuicLb;

namespace Mallard.Quic.Connections;

/// <summary>
/// Connection IDs that carry this server's QUIC-LB server ID (draft-ietf-quic-load-balancers-21),
/// so that a QUIC-LB load balancer such as <c>mallard lb</c> routes every packet of a connection
/// here, whatever address it comes from. Set it as <see cref="QuicListenerOptions.ConnectionIdGenerator"/>.
/// </summary>
public sealed class QuicLbConnectionIdGenerator(ConnectionIdEncoder encoder) : IConnectionIdGenerator
{
    private readonly ConnectionIdEncoder _encoder = encoder ?? throw new ArgumentNullException(nameof(encoder));
    private readonly ConnectionIdDecoder _decoder = new([encoder.Config]);

    /// <summary>Issues CIDs for <paramref name="serverId"/> under <paramref name="config"/>.</summary>
    public QuicLbConnectionIdGenerator(QuicLbConfig config, ReadOnlySpan<byte> serverId)
        : this(new ConnectionIdEncoder(config, serverId))
    {
    }

    /// <inheritdoc/>
    public int ConnectionIdLength => _encoder.ConnectionIdLength;

    /// <summary>A new CID: the config ID, the server ID (encrypted when the config has a key) and a fresh nonce.</summary>
    public byte[] NewConnectionId() => _encoder.Issue();

    /// <summary>
    /// True when <paramref name="connectionId"/> decodes, under this server's configuration, to
    /// another server's ID; IDs of other configurations and unroutable ones are not judged.
    /// </summary>
    public bool IsForeign(ReadOnlySpan<byte> connectionId)
    {
        QuicLbDecodeResult decoded = _decoder.Decode(connectionId);
        return decoded.IsRoutable && decoded.ConfigId == _encoder.Config.ConfigId && !decoded.ServerId.Equals(_encoder.ServerId);
    }
}
