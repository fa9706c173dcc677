namespace Mallard.Quic.Connections;

/// <summary>
/// Connection-level flow control (RFC 9000 sections 4.1 and 4.2): the stream data this endpoint
/// may still send under the peer's MAX_DATA, and the window it grants the peer, which grows when
/// the application reads quickly.
/// </summary>
internal sealed class ConnectionFlowControl
{
    private ulong _dataBlockedAt = ulong.MaxValue;
    private long _lastWindowUpdate;

    /// <param name="initialWindow">The initial_max_data this endpoint advertised.</param>
    public ConnectionFlowControl(ulong initialWindow)
    {
        Window = initialWindow;
        LocalLimit = initialWindow;
    }

    /// <summary>The peer's limit on the stream data this endpoint sends (initial_max_data or MAX_DATA).</summary>
    public ulong PeerLimit { get; private set; }

    /// <summary>New stream data sent so far (retransmissions do not count).</summary>
    public ulong Sent { get; private set; }

    /// <summary>New stream data this endpoint may still send.</summary>
    public ulong Credit => PeerLimit - Sent;

    /// <summary>The limit this endpoint advertised (MAX_DATA).</summary>
    public ulong LocalLimit { get; private set; }

    /// <summary>The highest offsets received, summed over all streams (what counts against <see cref="LocalLimit"/>).</summary>
    public ulong Received { get; private set; }

    /// <summary>Stream data the application has read.</summary>
    public ulong Read { get; private set; }

    /// <summary>The window granted beyond what has been read.</summary>
    public ulong Window { get; private set; }

    /// <summary>The peer raised its limit; a smaller one than before changes nothing (section 19.9).</summary>
    public void RaisePeerLimit(ulong maximum) => PeerLimit = Math.Max(PeerLimit, maximum);

    /// <summary>Client, after refused 0-RTT: the server's new limit replaces the remembered one, even when lower (RFC 9000 section 7.4.1); the caller has checked that what was used fits.</summary>
    public void ResetPeerLimit(ulong maximum) => PeerLimit = maximum;

    /// <summary>Counts new stream data sent.</summary>
    public void OnSent(ulong octets) => Sent += octets;

    /// <summary>
    /// Whether a DATA_BLOCKED frame should say that sending waits for <see cref="PeerLimit"/> (once per
    /// limit, section 4.1); call <see cref="OnDataBlockedSent"/> when one was written.
    /// </summary>
    public bool DataBlockedDue => Credit == 0 && _dataBlockedAt != PeerLimit;

    /// <summary>A DATA_BLOCKED frame for the current limit was written.</summary>
    public void OnDataBlockedSent() => _dataBlockedAt = PeerLimit;

    /// <summary>Counts stream data newly received; false when the peer went past the limit (FLOW_CONTROL_ERROR).</summary>
    public bool OnReceived(ulong octets)
    {
        Received += octets;
        return Received <= LocalLimit;
    }

    /// <summary>
    /// Counts data the application read, and moves the limit once half the window is consumed,
    /// doubling the window (up to <paramref name="maxWindow"/>) when that happened within
    /// <paramref name="twoRoundTrips"/> of the last move. True when a MAX_DATA frame should announce the new limit.
    /// </summary>
    public bool OnRead(ulong octets, long now, long twoRoundTrips, ulong maxWindow)
    {
        Read += octets;
        if (LocalLimit - Read >= Window / 2)
        {
            return false;
        }

        if (now - _lastWindowUpdate < twoRoundTrips)
        {
            Window = Math.Min(Window * 2, Math.Max(maxWindow, Window));
        }

        _lastWindowUpdate = now;
        LocalLimit = Read + Window;
        return true;
    }
}
