using Mallard.Quic.Crypto;
using Mallard.Quic.Frames;
using Mallard.Quic.Transport;

namespace Mallard.Quic.Connections;

/// <summary>
/// 0-RTT (RFC 9001 section 4.6, RFC 9000 section 7.4.1): a resuming client sends application data
/// in 0-RTT packets before the handshake completes, under the limits the server gave it last time;
/// a server that accepts it reads them at once and may answer before the client's Finished (0.5-RTT).
/// Refused early data goes again in 1-RTT packets, except datagrams, which are reported lost.
/// </summary>
internal sealed partial class Connection
{
    /// <summary>Client: 0-RTT keys are in the application space's send keys, and its packets go out as 0-RTT.</summary>
    private bool _zeroRttSending;

    /// <summary>Server: the keys that open the client's 0-RTT packets, until discarded.</summary>
    private PacketProtection? _zeroRttReceiveKeys;

    /// <summary>Streams and datagrams may be used before the handshake completes (0-RTT offered by this client, or accepted by this server).</summary>
    private bool _earlyApplicationData;

    /// <summary>Client: the server's parameters from the ticket, which 0-RTT used.</summary>
    private TransportParameters? _rememberedPeerParameters;

    private bool _earlyDataRejectionHandled;

    /// <summary>Client: 0-RTT packets sent.</summary>
    public long ZeroRttPacketsSent { get; private set; }

    /// <summary>Server: 0-RTT packets opened and processed.</summary>
    public long ZeroRttPacketsReceived { get; private set; }

    /// <summary>Client: 0-RTT was offered. Server: the client offered it.</summary>
    public bool EarlyDataOffered => _tls.EarlyDataOffered;

    /// <summary>The server accepted 0-RTT (client: known once the server's EncryptedExtensions arrive).</summary>
    public bool EarlyDataAccepted => _tls.EarlyDataAccepted;

    /// <summary>Client: the offered 0-RTT was refused.</summary>
    public bool EarlyDataRejected => _tls.EarlyDataRejected;

    /// <summary>Whether streams can be opened and datagrams queued: established, or early with 0-RTT.</summary>
    public bool ApplicationDataAllowed => State == ConnectionState.Established || (State == ConnectionState.Handshaking && _earlyApplicationData);

    /// <summary>
    /// Client, at start: with 0-RTT offered, the server's remembered limits apply until its new
    /// ones arrive, and the 0-RTT keys protect application data from the first flight on.
    /// </summary>
    private void StartEarlyData(TransportParameters remembered)
    {
        if (_tls.ClientEarlySecret is not byte[] secret)
        {
            return;
        }

        _rememberedPeerParameters = remembered;
        PeerParameters = remembered;
        _flowControl.RaisePeerLimit(remembered.InitialMaxData);
        _bidirectionalStreams.RaisePeerLimit(remembered.InitialMaxStreamsBidi);
        _unidirectionalStreams.RaisePeerLimit(remembered.InitialMaxStreamsUni);
        ApplicationSpace.SendKeys = new PacketProtection(PacketKeys.FromSecret(_tls.EarlySuite!.Value, secret, Version));
        _zeroRttSending = true;
        _earlyApplicationData = true;
    }

    /// <summary>Client: the server's parameters remembered with the ticket, as 0-RTT uses them; null when 0-RTT cannot be offered.</summary>
    private TransportParameters? RememberedPeerParameters() =>
        _options is { OfferEarlyData: true, ResumeWith: { AllowsEarlyData: true, ServerTransportParameters: byte[] encoded } }
            ? TransportParameters.TryDecode(encoded, fromServer: true, out _)?.RememberedForEarlyData()
            : null;

    /// <summary>Keeps the 0-RTT state in step with the handshake; called as it advances, before the 1-RTT keys are installed.</summary>
    private void AfterEarlyDataProgress()
    {
        if (IsServer)
        {
            if (_tls.ClientEarlySecret is byte[] secret && _zeroRttReceiveKeys is null && !_earlyApplicationData)
            {
                _zeroRttReceiveKeys = new PacketProtection(PacketKeys.FromSecret(_tls.EarlySuite!.Value, secret, Version));
                _earlyApplicationData = true;
            }

            return;
        }

        if (_tls.EarlyDataRejected && !_earlyDataRejectionHandled)
        {
            // Refused (RFC 9001 section 4.6.2): no more 0-RTT; what it carried goes again in 1-RTT.
            _earlyDataRejectionHandled = true;
            StopZeroRttSending();
            ForgetZeroRttPackets();
        }

        if (_tls.ApplicationSecrets is not null)
        {
            StopZeroRttSending(); // new data goes at the highest level available (RFC 9001 section 4.1.4)
        }
    }

    private void StopZeroRttSending()
    {
        if (_zeroRttSending && _keyPhases is null)
        {
            ApplicationSpace.SendKeys?.Dispose();
            ApplicationSpace.SendKeys = null;
        }

        _zeroRttSending = false;
    }

    /// <summary>
    /// The 0-RTT packets in flight will never be acknowledged (refused, or dropped before a Retry):
    /// their frames are queued again, and they leave the congestion window without counting as
    /// congestion (RFC 9002 section 6.4).
    /// </summary>
    private void ForgetZeroRttPackets()
    {
        RequeueUnacknowledged(ApplicationSpace, int.MaxValue);
        ApplicationSpace.Loss.Discard(_congestion);
    }

    /// <summary>
    /// Client, with the server's new parameters after 0-RTT: accepted, no remembered limit may be
    /// lower (RFC 9000 section 7.4.1: PROTOCOL_VIOLATION); refused, the early data is sent again only
    /// under the same application protocol and within the new limits, or the connection ends.
    /// Streams opened early get the new, larger per-stream limits.
    /// </summary>
    private bool CheckParametersAfterEarlyData(long now, TransportParameters parameters)
    {
        if (_rememberedPeerParameters is not TransportParameters remembered)
        {
            return true;
        }

        ulong[] before = remembered.EarlyDataLimits();
        ulong[] after = parameters.EarlyDataLimits();
        bool lowered = false;
        for (int i = 0; i < before.Length; i++)
        {
            lowered |= after[i] < before[i];
        }

        if (lowered && _tls.EarlyDataAccepted)
        {
            Fail(now, TransportErrorCode.ProtocolViolation, "the server accepted 0-RTT but lowered a limit the client remembered");
            return false;
        }

        if (_tls.EarlyDataRejected && !EarlyDataFits(parameters))
        {
            Fail(now, TransportErrorCode.InternalError, "0-RTT was refused and its data does not fit the server's new protocol or limits; reconnect");
            return false;
        }

        // Refused, the remembered limits no longer hold: the new ones replace them, lower or not
        // (what was sent fits, checked above). Accepted, they can only have grown.
        bool refused = _tls.EarlyDataRejected;
        if (refused)
        {
            _flowControl.ResetPeerLimit(parameters.InitialMaxData);
            _bidirectionalStreams.ResetPeerLimit(parameters.InitialMaxStreamsBidi);
            _unidirectionalStreams.ResetPeerLimit(parameters.InitialMaxStreamsUni);
        }

        foreach (StreamState stream in _streams.Values)
        {
            if (stream.IsLocal && stream.Send is { } send)
            {
                ulong limit = stream.IsBidirectional ? parameters.InitialMaxStreamDataBidiRemote : parameters.InitialMaxStreamDataUni;
                if (refused)
                {
                    send.ResetPeerLimit(limit);
                }
                else
                {
                    send.RaisePeerLimit(limit);
                }
            }
        }

        return true;
    }

    /// <summary>Whether refused early data can go again on this connection: same protocol as the ticket's, and within the new limits.</summary>
    private bool EarlyDataFits(TransportParameters parameters)
    {
        bool used = _bidirectionalStreams.OpenedLocally > 0 || _unidirectionalStreams.OpenedLocally > 0 || _datagrams.Counters.Sent > 0;
        if (!used)
        {
            return true;
        }

        if (_tls.ApplicationProtocol != _options.ResumeWith?.ApplicationProtocol
            || _flowControl.Sent > parameters.InitialMaxData
            || _bidirectionalStreams.OpenedLocally > parameters.InitialMaxStreamsBidi
            || _unidirectionalStreams.OpenedLocally > parameters.InitialMaxStreamsUni)
        {
            return false;
        }

        foreach (StreamState stream in _streams.Values)
        {
            if (stream.IsLocal && stream.Send is { } send && send.SentEnd > (stream.IsBidirectional ? parameters.InitialMaxStreamDataBidiRemote : parameters.InitialMaxStreamDataUni))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// Client: the handshake did not complete in time, after the connection was handed to the
    /// application early for 0-RTT: it closes, and what waits on it fails with a timeout.
    /// </summary>
    public void AbandonHandshake(long now, string reason)
    {
        _now = now;
        if (State != ConnectionState.Handshaking)
        {
            return;
        }

        Error = new ConnectionError((ulong)TransportErrorCode.NoError, false, reason, false, Cause: ConnectionEndCause.HandshakeTimeout);
        EnterClosing(now);
    }

    /// <summary>Server holding 0-RTT keys: a 1-RTT packet arrived; the 0-RTT keys go three PTOs after the first (RFC 9001 section 4.9.3).</summary>
    private void OnOneRttPacketFromClient(long now)
    {
        if (_timers[TimerKind.DiscardZeroRttKeys] is null)
        {
            _timers[TimerKind.DiscardZeroRttKeys] = now + (3 * _rtt.ProbeTimeout(0));
        }
    }

    private void DiscardZeroRttKeys()
    {
        _timers[TimerKind.DiscardZeroRttKeys] = null;
        _zeroRttReceiveKeys?.Dispose();
        _zeroRttReceiveKeys = null;
    }

    /// <summary>
    /// Frames a 0-RTT packet may not carry (RFC 9000 section 12.5, table 3): acknowledgements,
    /// CRYPTO, and what only a server or a path answer sends.
    /// </summary>
    private static bool ForbiddenInZeroRtt(FrameType type) =>
        type is FrameType.Ack or FrameType.AckEcn or FrameType.Crypto or FrameType.NewToken or FrameType.PathResponse or FrameType.RetireConnectionId or FrameType.HandshakeDone;
}
