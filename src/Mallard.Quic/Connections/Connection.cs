using System.Net;
using System.Security.Cryptography;
using Mallard.Quic.Congestion;
using Mallard.Quic.Crypto;
using Mallard.Quic.Recovery;
using Mallard.Quic.Tls;
using Mallard.Quic.Transport;
using Mallard.QuicLb.Invariants;

namespace Mallard.Quic.Connections;

/// <summary>
/// The sans-IO state machine of one QUIC v1 connection (RFC 9000, 9001, 9002). Input is
/// datagrams with the time they arrived and timer expiry; output is datagrams to send, the next
/// time it wants to be woken, and state the host reads (streams, events). It touches no socket,
/// clock or thread, so loss, reordering and time are deterministic in tests. Times are in
/// microseconds on the host's clock. Not thread-safe: the host serialises calls.
/// </summary>
internal sealed partial class Connection : IDisposable
{
    /// <summary>Initial packets travel in datagrams of at least this size (RFC 9000 section 14.1).</summary>
    public const int MinimumInitialDatagramSize = 1200;

    private readonly ConnectionOptions _options;
    private readonly SentPacketPool _sentPackets = new();
    private readonly PacketSpace[] _spaces;
    private TlsHandshake _tls = null!;
    private readonly CongestionController _congestion;
    private readonly Pacer _pacer;
    private readonly RttEstimator _rtt = new();
    private readonly PathMtuDiscovery _pathMtu;
    private readonly TransportParameters _localParameters;
    private ConnectionState _state = ConnectionState.Handshaking;
    private Qlog.QlogWriter? _qlog;
    private long _lastAckElicitingSent;
    private readonly PendingFrames _pending = new();
    private long _now;
    private readonly byte[] _originalDestinationConnectionId;
    private readonly ConnectionIdState _connectionIds;
    private byte[]? _retrySourceConnectionId;
    private byte[] _token = [];
    private bool _receivedFromPeer;
    private bool _retryReceived;
    private readonly AmplificationLimit _amplification;
    private bool _peerAddressValidated;
    private int _ptoCount;
    private long _idleTimeout;
    private bool _ackElicitingSentSinceReceive;
    private readonly TimerTable _timers = new();
    private bool _closeFramePending;
    private int _keyLogLinesWritten;
    private bool _disposed;

    private PacketSpace InitialSpace => _spaces[(int)SpaceId.Initial];

    private PacketSpace HandshakeSpace => _spaces[(int)SpaceId.Handshake];

    private PacketSpace ApplicationSpace => _spaces[(int)SpaceId.Application];

    private PacketSpace Space(SpaceId id) => _spaces[(int)id];

    private Connection(ConnectionOptions options, byte[] originalDestinationConnectionId, byte[] peerConnectionId, SocketAddress remote, uint version)
    {
        _options = options;
        _spaces = [new(SpaceId.Initial, _sentPackets), new(SpaceId.Handshake, _sentPackets), new(SpaceId.Application, _sentPackets)];
        IsServer = options.IsServer;
        Version = version;
        Remote = remote;
        _originalDestinationConnectionId = originalDestinationConnectionId;
        _congestion = options.CongestionControl == QuicCongestionControl.NewReno
            ? new NewRenoController(MinimumInitialDatagramSize)
            : new CubicController(MinimumInitialDatagramSize);
        _pacer = new Pacer(_congestion.CongestionWindow);
        _pathMtu = new PathMtuDiscovery(options.DiscoverPathMtu);
        _amplification = new AmplificationLimit(validated: !options.IsServer); // a client needs no proof of its server's address
        _localParameters = options.LocalParameters.Clone();
        _idleTimeout = (long)_localParameters.MaxIdleTimeout * 1000;
        _flowControl = new ConnectionFlowControl(_localParameters.InitialMaxData);
        _bidirectionalStreams = new StreamCounts(_localParameters.InitialMaxStreamsBidi);
        _unidirectionalStreams = new StreamCounts(_localParameters.InitialMaxStreamsUni);
        _datagrams = new DatagramQueues(options.DatagramSendQueueCapacity, options.DatagramReceiveQueueCapacity, OnReceivedDatagramDropped);

        byte[] sourceConnectionId = options.ConnectionIds.NewConnectionId();
        _connectionIds = new ConnectionIdState(sourceConnectionId, options.ResetTokenFor(sourceConnectionId), peerConnectionId, _localParameters.ActiveConnectionIdLimit);
        _localParameters.InitialSourceConnectionId = sourceConnectionId;
    }

    /// <summary>Whether the endpoint's send queue holds this connection (<see cref="ConnectionSchedule"/>).</summary>
    internal bool InSendQueue { get; set; }

    /// <summary>Whether the endpoint has noted this connection as touched since its host last woke its waiters.</summary>
    internal bool Touched { get; set; }

    /// <summary>Server: the destination connection ID of the client's Initial that created it, a routing key until it closes.</summary>
    internal byte[]? ClientChosenConnectionId { get; set; }

    /// <summary>The deadline under which the endpoint's timer queue holds this connection, or null.</summary>
    internal long? ScheduledTimeout { get; set; }

    /// <summary>Whether this is the server's side.</summary>
    public bool IsServer { get; }

    /// <summary>The QUIC version in use.</summary>
    public uint Version { get; }

    /// <summary>The peer's address (the host sends every datagram there).</summary>
    public SocketAddress Remote { get; private set; }

    public ConnectionState State
    {
        get => _state;
        private set
        {
            if (_state == value)
            {
                return;
            }

            _state = value;
            if (value is ConnectionState.Closing or ConnectionState.Draining or ConnectionState.Closed)
            {
                AbandonQueuedDatagrams();
            }

            _qlog?.StateUpdated(_now, value switch
            {
                ConnectionState.Established => "handshake_complete",
                ConnectionState.Closing => "closing",
                ConnectionState.Draining => "draining",
                _ => "closed",
            });
            if (value == ConnectionState.Closed)
            {
                CloseQlog();
            }
        }
    }

    /// <summary>Why the connection closed, once it has.</summary>
    public ConnectionError? Error { get; private set; }

    /// <summary>Whether the handshake is confirmed (RFC 9001 section 4.1.2).</summary>
    public bool HandshakeConfirmed { get; private set; }

    /// <summary>Whether the TLS handshake has completed.</summary>
    public bool HandshakeComplete => _tls.IsComplete;

    /// <summary>Whether the connection reached <see cref="ConnectionState.Established"/>; stays true after it closes.</summary>
    public bool HandshakeSucceeded { get; private set; }

    /// <summary>The peer's transport parameters, once received.</summary>
    public TransportParameters? PeerParameters { get; private set; }

    /// <summary>The negotiated ALPN protocol.</summary>
    public string? ApplicationProtocol => _tls.ApplicationProtocol;

    /// <summary>Whether the handshake resumed a session with a ticket.</summary>
    public bool IsResumed => _tls.IsResumed;

    /// <summary>Client: the newest session ticket the server issued on this connection.</summary>
    public SessionTicket? ReceivedTicket => (_tls as TlsClient)?.ReceivedTicket;

    /// <summary>The negotiated cipher suite.</summary>
    public CipherSuite? CipherSuite => _tls.Suite;

    /// <summary>The connection ID the client chose for its first Initial.</summary>
    public ReadOnlySpan<byte> OriginalDestinationConnectionId => _originalDestinationConnectionId;

    /// <summary>This endpoint's connection IDs that the peer may use (the endpoint routes them here).</summary>
    public IEnumerable<byte[]> LocalConnectionIds => _connectionIds.ActiveLocalIds;

    /// <summary>The round-trip time estimate.</summary>
    public RttEstimator Rtt => _rtt;

    /// <summary>The congestion window in bytes.</summary>
    public long CongestionWindow => _congestion.CongestionWindow;

    /// <summary>Octets sent in packets that count towards the congestion window and are neither acknowledged nor lost.</summary>
    public long BytesInFlight => _congestion.BytesInFlight;

    /// <summary>The peer's connection ID this endpoint sends to now.</summary>
    internal byte[] DestinationConnectionId => _connectionIds.PeerCurrent;

    /// <summary>Sequence numbers of the peer's connection IDs waiting to be retired (RETIRE_CONNECTION_ID not yet sent).</summary>
    internal IReadOnlyList<ulong> ConnectionIdsToRetire => _connectionIds.ToRetire;

    /// <summary>Connection-level flow control (tests that play a peer ignoring it raise its limit).</summary>
    internal ConnectionFlowControl FlowControl => _flowControl;

    /// <summary>Bidirectional stream counts and limits (tests that play a peer ignoring MAX_STREAMS raise its limit).</summary>
    internal StreamCounts BidirectionalStreams => _bidirectionalStreams;

    /// <summary>Sent-packet records kept for reuse (tests of what an idle connection holds).</summary>
    internal int SentPacketRecordsKept => _sentPackets.Count;

    /// <summary>The congestion controller's ssthresh (long.MaxValue until the first congestion event or HyStart++ exit).</summary>
    internal long SlowStartThreshold => _congestion.SlowStartThreshold;

    /// <summary>The key phase of 1-RTT packets sent (flips on every key update).</summary>
    public int KeyPhase => _keyPhases?.SendPhase ?? 0;

    /// <summary>Key updates completed (initiated or answered).</summary>
    public int KeyUpdates => _keyPhases?.CompletedUpdates ?? 0;

    /// <summary>Packets dropped because they could not be read or decrypted.</summary>
    public long DroppedPackets { get; private set; }

    /// <summary>Whether any packet from the peer has been decrypted (a server keeps no state for an Initial that is not).</summary>
    public bool HasReceivedPacket => _receivedFromPeer;

    /// <summary>A NEW_TOKEN the server gave this client for later connections (RFC 9000 section 8.1.3).</summary>
    public byte[]? ReceivedNewToken { get; private set; }

    /// <summary>Called with every connection ID this endpoint issues (the endpoint routes it here).</summary>
    public Action<byte[]>? ConnectionIdIssued { get; set; }

    /// <summary>Called with every connection ID this endpoint retires.</summary>
    public Action<byte[]>? ConnectionIdRetired { get; set; }

    /// <summary>Opens the client side: a random original DCID (at least 8 octets, RFC 9000 section 7.2) and the ClientHello.</summary>
    public static Connection CreateClient(ConnectionOptions options, SocketAddress remote, long now, byte[]? token = null, uint version = QuicVersion.V1)
    {
        byte[] destination = RandomNumberGenerator.GetBytes(8);
        var connection = new Connection(options, destination, destination, remote, version);
        connection._token = token ?? [];
        connection.Start(now);
        return connection;
    }

    /// <summary>
    /// Accepts a client's first Initial: the server side, with Initial keys from the client's
    /// DCID (<paramref name="initialDestinationConnectionId"/>, which is the Retry's SCID after a
    /// Retry, whose original DCID is then <paramref name="originalDestinationConnectionId"/>).
    /// </summary>
    public static Connection CreateServer(
        ConnectionOptions options,
        SocketAddress remote,
        long now,
        byte[] initialDestinationConnectionId,
        byte[] clientSourceConnectionId,
        uint version,
        byte[]? originalDestinationConnectionId = null,
        bool addressValidated = false)
    {
        var connection = new Connection(options, originalDestinationConnectionId ?? initialDestinationConnectionId, clientSourceConnectionId, remote, version);
        if (addressValidated)
        {
            connection._amplification.Validate();
        }
        if (originalDestinationConnectionId is not null)
        {
            connection._retrySourceConnectionId = initialDestinationConnectionId;
        }

        connection.Start(now, initialDestinationConnectionId);
        return connection;
    }

    /// <summary>When <see cref="OnTimeout"/> should next be called; null when no timer is armed.</summary>
    public long? NextTimeout
    {
        get
        {
            if (State == ConnectionState.Closed)
            {
                return null;
            }

            if (_timers[TimerKind.Close] is long close)
            {
                return close;
            }

            long next = _timers.Earliest ?? long.MaxValue;
            if (ApplicationSpace.AckDeadline is long ack && !AmplificationLimited)
            {
                next = Math.Min(next, ack);
            }

            if (KeepAliveDeadline is long keepAlive)
            {
                next = Math.Min(next, keepAlive);
            }

            return next == long.MaxValue ? null : next;
        }
    }

    /// <summary>Fires whichever timers are due (idle, closing, loss detection and PTO, RFC 9002 section 6.2).</summary>
    public void OnTimeout(long now)
    {
        _now = now;
        if (State == ConnectionState.Closed)
        {
            return;
        }

        if (_timers[TimerKind.Close] is long close)
        {
            if (now >= close)
            {
                State = ConnectionState.Closed;
            }

            return;
        }

        if (_timers.IsDue(TimerKind.Idle, now))
        {
            Error ??= new ConnectionError((ulong)TransportErrorCode.NoError, false, "idle timeout", false, Cause: ConnectionEndCause.IdleTimeout);
            State = ConnectionState.Closed;
            return;
        }

        if (_timers.IsDue(TimerKind.PathValidation, now))
        {
            OnPathValidationTimeout();
        }

        if (KeepAliveDeadline is long keepAlive && now >= keepAlive)
        {
            _pending.Ping = true;
        }

        if (_timers.IsDue(TimerKind.LossDetection, now))
        {
            OnLossDetectionTimeout(now);
        }

        if (_timers.IsDue(TimerKind.DiscardZeroRttKeys, now))
        {
            DiscardZeroRttKeys();
        }

        if (_timers.IsDue(TimerKind.TrimRecords, now))
        {
            _timers[TimerKind.TrimRecords] = null;
            if (_congestion.BytesInFlight == 0)
            {
                _sentPackets.Trim();
            }
        }
    }

    /// <summary>
    /// Closes the connection with CONNECTION_CLOSE (RFC 9000 section 10.2): an application error
    /// code, or a transport one when <paramref name="application"/> is false.
    /// </summary>
    public void Close(long now, ulong errorCode, string reason = "", bool application = true)
    {
        _now = now;
        if (State is ConnectionState.Closing or ConnectionState.Draining or ConnectionState.Closed)
        {
            return;
        }

        Error = new ConnectionError(errorCode, application, reason, false);
        EnterClosing(now);
    }

    /// <summary>Starts a key update (RFC 9001 section 6.1); false when one is not allowed yet.</summary>
    public bool UpdateKeys()
    {
        if (!HandshakeConfirmed || _keyPhases is not { CanUpdate: true } || State != ConnectionState.Established)
        {
            return false;
        }

        _keyPhases.AdvanceSend();
        return true;
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        CloseQlog();
        foreach (PacketSpace space in _spaces)
        {
            space.Dispose();
        }

        _keyPhases?.Dispose();
        _zeroRttReceiveKeys?.Dispose();
        _tls.Dispose();
    }

    private void Start(long now, byte[]? initialDestinationConnectionId = null)
    {
        (byte[] client, byte[] server) = InitialSecrets.Derive(Version, initialDestinationConnectionId ?? _originalDestinationConnectionId);
        InstallKeys(InitialSpace, Crypto.CipherSuite.Aes128GcmSha256, client, server);
        if (IsServer)
        {
            _localParameters.OriginalDestinationConnectionId = _originalDestinationConnectionId;
            _localParameters.RetrySourceConnectionId = _retrySourceConnectionId;
            _localParameters.StatelessResetToken = _connectionIds.FirstLocalResetToken;
            _tls = new TlsServer(new TlsServerOptions
            {
                Certificate = _options.Certificate ?? throw new InvalidOperationException("a server connection needs a certificate"),
                CertificateSelector = _options.CertificateSelector,
                ApplicationProtocols = _options.ApplicationProtocols,
                TransportParameters = _localParameters.Encode(),
                Groups = _options.Groups,
                CipherSuites = _options.CipherSuites,
                SessionTickets = _options.SessionTickets,
                SessionTicketLifetimeSeconds = _options.SessionTicketLifetimeSeconds,
                EarlyDataLimits = _options.EarlyDataGuard is null ? null : _localParameters.EarlyDataLimits(),
                ReplayGuard = _options.EarlyDataGuard,
                NowMilliseconds = _options.NowMilliseconds,
            });
        }
        else
        {
            _localParameters.OriginalDestinationConnectionId = null;
            _localParameters.RetrySourceConnectionId = null;
            _localParameters.StatelessResetToken = null;
            _localParameters.PreferredAddress = null;
            TransportParameters? remembered = RememberedPeerParameters();
            _tls = new TlsClient(new TlsClientOptions
            {
                ServerName = _options.ServerName,
                ApplicationProtocols = _options.ApplicationProtocols,
                TransportParameters = _localParameters.Encode(),
                Groups = _options.Groups,
                CipherSuites = _options.CipherSuites,
                SkipCertificateValidation = _options.SkipCertificateValidation,
                ValidateCertificate = _options.ValidateCertificate,
                ChainPolicy = _options.CertificateChainPolicy,
                SessionTicket = _options.ResumeWith,
                OfferEarlyData = remembered is not null,
                NowMilliseconds = _options.NowMilliseconds,
            });
            CollectHandshakeOutput();
            if (remembered is not null)
            {
                StartEarlyData(remembered);
            }

            WriteKeyLog();
        }

        _lastReceiveTime = now;
        ResetIdleTimer(now);
        _now = now;
        if (_options.OpenQlog is { } open)
        {
            string name = $"{Convert.ToHexStringLower(_originalDestinationConnectionId)}_{(IsServer ? "server" : "client")}.sqlog";
            Stream? file = null;
            try
            {
                file = open(name);
            }
            catch (Exception failure) when (failure is IOException or UnauthorizedAccessException)
            {
                // An unwritable qlog directory must not cost the connection; the CLI checks it up front.
                return;
            }

            _qlog = new Qlog.QlogWriter(file, IsServer, _originalDestinationConnectionId, now);
            var remote = (System.Net.IPEndPoint)new System.Net.IPEndPoint(Remote.Family == System.Net.Sockets.AddressFamily.InterNetworkV6 ? System.Net.IPAddress.IPv6Any : System.Net.IPAddress.Any, 0).Create(Remote);
            _qlog.ConnectionStarted(now, remote, _connectionIds.FirstLocalId, _connectionIds.PeerCurrent);
            _qlog.StateUpdated(now, "handshake_started");
            _qlog.ParametersSet(now, local: true, _localParameters);
        }
    }

    /// <summary>
    /// When a keep-alive PING is due: nothing ack-eliciting was sent for the interval. It keeps NAT
    /// mappings alive and, after a rebinding, lets the server learn the client's new address even
    /// when the client only receives (RFC 9000 section 10.1.2).
    /// </summary>
    private long? KeepAliveDeadline => _options.KeepAliveInterval > 0 && HandshakeConfirmed && State == ConnectionState.Established && !_pending.Ping
        ? _lastAckElicitingSent + _options.KeepAliveInterval
        : null;

    /// <summary>Writes connection_closed and closes the qlog file.</summary>
    private void CloseQlog()
    {
        if (_qlog is null)
        {
            return;
        }

        if (Error is ConnectionError error)
        {
            string trigger = error.Cause switch
            {
                ConnectionEndCause.IdleTimeout => "idle_timeout",
                ConnectionEndCause.StatelessReset => "stateless_reset",
                ConnectionEndCause.VersionNegotiation => "version_mismatch",
                _ => error.IsApplication ? "application" : "error",
            };
            _qlog.ConnectionClosed(_now, !error.ByPeer, error.IsApplication, error.Code, error.Reason, trigger);
        }

        _qlog.Dispose();
        _qlog = null;
    }

    private void InstallKeys(PacketSpace space, CipherSuite suite, byte[] clientSecret, byte[] serverSecret)
    {
        space.SendKeys?.Dispose();
        space.ReceiveKeys?.Dispose();
        space.SendKeys = new PacketProtection(PacketKeys.FromSecret(suite, IsServer ? serverSecret : clientSecret, Version));
        space.ReceiveKeys = new PacketProtection(PacketKeys.FromSecret(suite, IsServer ? clientSecret : serverSecret, Version));
    }

    private void EnterClosing(long now)
    {
        State = ConnectionState.Closing;
        _closeFramePending = true;
        _timers[TimerKind.Close] = now + (3 * _rtt.ProbeTimeout(0));
        _timers[TimerKind.LossDetection] = null;
    }

    private void EnterDraining(long now, ConnectionError error)
    {
        Error ??= error;
        State = ConnectionState.Draining;
        _closeFramePending = false;
        _timers[TimerKind.Close] = now + (3 * _rtt.ProbeTimeout(0));
        _timers[TimerKind.LossDetection] = null;
    }

    /// <summary>A protocol violation: close with the transport error (RFC 9000 section 11.1).</summary>
    private void Fail(long now, TransportErrorCode code, string reason, ulong frameType = 0)
    {
        if (State is ConnectionState.Closing or ConnectionState.Draining or ConnectionState.Closed)
        {
            return;
        }

        Error = ConnectionError.Transport(code, reason, frameType);
        EnterClosing(now);
    }

    private void ResetIdleTimer(long now)
    {
        long peer = PeerParameters is { MaxIdleTimeout: > 0 } p ? (long)p.MaxIdleTimeout * 1000 : 0;
        long effective = (_idleTimeout, peer) switch
        {
            (0, 0) => 0,
            (0, _) => peer,
            (_, 0) => _idleTimeout,
            _ => Math.Min(_idleTimeout, peer),
        };
        _timers[TimerKind.Idle] = effective == 0 ? null : now + Math.Max(effective, 3 * _rtt.ProbeTimeout(0));
    }

    private void WriteKeyLog()
    {
        if (_options.KeyLog is null)
        {
            return;
        }

        string[] lines = [.. _tls.KeyLogLines()];
        for (; _keyLogLinesWritten < lines.Length; _keyLogLinesWritten++)
        {
            _options.KeyLog(lines[_keyLogLinesWritten]);
        }
    }

}
