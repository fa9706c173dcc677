namespace Mallard.Quic.Connections;

/// <summary>
/// How many streams of one kind (bidirectional or unidirectional) each side has opened, and the
/// limits each side granted the other with MAX_STREAMS (RFC 9000 sections 4.6 and 19.11).
/// </summary>
/// <param name="localLimit">The initial_max_streams this endpoint advertised.</param>
internal sealed class StreamCounts(ulong localLimit)
{
    /// <summary>Streams this endpoint opened.</summary>
    public ulong OpenedLocally { get; private set; }

    /// <summary>
    /// Streams the peer opened, by the highest stream ID seen so far (opening one opens every
    /// lower one of its kind, RFC 9000 section 3.2).
    /// </summary>
    public ulong OpenedByPeer { get; set; }

    /// <summary>How many this endpoint may open: the peer's initial_max_streams or MAX_STREAMS.</summary>
    public ulong PeerLimit { get; private set; }

    /// <summary>How many the peer may open: what this endpoint advertised, raised as peer streams end.</summary>
    public ulong LocalLimit { get; private set; } = localLimit;

    /// <summary>Whether the peer's limit allows this endpoint another stream.</summary>
    public bool CanOpen => OpenedLocally < PeerLimit;

    /// <summary>Counts a stream this endpoint opens; returns its index among its kind.</summary>
    public ulong Open() => OpenedLocally++;

    /// <summary>The peer raised its limit (a smaller MAX_STREAMS than before changes nothing, section 19.11).</summary>
    public void RaisePeerLimit(ulong maximum) => PeerLimit = Math.Max(PeerLimit, maximum);

    /// <summary>Client, after refused 0-RTT: the server's new limit replaces the remembered one, even when lower (RFC 9000 section 7.4.1); the caller has checked that what was used fits.</summary>
    public void ResetPeerLimit(ulong maximum) => PeerLimit = maximum;

    /// <summary>A peer stream ended: the peer may open one more (the next MAX_STREAMS says so).</summary>
    public void GrantOneMore() => LocalLimit++;
}
