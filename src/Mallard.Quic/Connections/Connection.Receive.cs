using System.Buffers.Binary;
using System.Net;
using System.Security.Cryptography;
using Mallard.Quic.Crypto;
using Mallard.Quic.Frames;
using Mallard.Quic.Packets;
using Mallard.Quic.Recovery;
using Mallard.Quic.Tls;
using Mallard.Quic.Transport;
using Mallard.QuicLb.Invariants;

namespace Mallard.Quic.Connections;

/// <summary>The receiving half: packets, keys and frames in (RFC 9000 sections 12-13 and 19, RFC 9001 sections 5-6).</summary>
internal sealed partial class Connection
{
    private const int MaxAckRangesRead = 64;

    /// <summary>1-RTT packets a server holds while the client's Finished is outstanding.</summary>
    private const int MaxEarlyOneRttPackets = 8;

    private readonly List<byte[]> _earlyOneRttPackets = [];
    private bool _nonProbingFrameSeen;

    /// <summary>The peer's transport parameters from this handshake are in (the client's 0-RTT used remembered ones before).</summary>
    private bool _peerParametersApplied;

    private long _lastReceiveTime;
    private KeyPhaseState? _keyPhases;

    /// <summary>Handshake flights resent because the server's Initial packets kept coming (<see cref="OnInitialAfterDiscard"/>).</summary>
    private int _handshakeResendsOnServerInitial;

    private const int MaxHandshakeResendsOnServerInitial = 8;

    /// <summary>How long, in microseconds, nothing must be in flight before a busy period's sent-packet records are given back.</summary>
    private const long RecordTrimDelay = 1_000_000;

    /// <summary>
    /// Processes one received datagram (decrypted in place). Undecryptable or malformed packets
    /// are dropped and counted; a protocol violation closes the connection with its error code.
    /// </summary>
    public void Receive(long now, Span<byte> datagram, SocketAddress? from = null)
    {
        if (State is ConnectionState.Closed or ConnectionState.Draining)
        {
            return;
        }

        _now = now;
        _receivedFrom = from;
        int offset = 0;
        bool anyProcessed = false;
        while (offset < datagram.Length && State != ConnectionState.Closed)
        {
            if (!ProtectedPacketReader.TryRead(datagram, offset, _options.ConnectionIds.ConnectionIdLength, out ProtectedPacket packet))
            {
                // Padding after the last packet is allowed (RFC 9000 section 12.2); anything else is a drop.
                if (datagram[offset..].ContainsAnyExcept((byte)0))
                {
                    DroppedPackets++;
                    _qlog?.PacketDropped(now, datagram.Length - offset, "header_parse_error");
                }

                break;
            }

            if (ProcessPacket(now, datagram, offset, packet))
            {
                anyProcessed = true;
            }
            else
            {
                DroppedPackets++;
                _qlog?.PacketDropped(now, packet.End - offset, "key_unavailable_or_decryption_failure");
            }

            offset = packet.End;
        }

        if (_earlyOneRttPackets.Count > 0 && _tls.IsComplete)
        {
            ProcessEarlyOneRttPackets(now);
        }

        // Only what came from the current peer address earns sending there (RFC 9000 sections 8.1
        // and 9.3.1); counted after the packets, so a datagram that moved the path counts for it.
        if (from is null || from.Equals(Remote))
        {
            _amplification.OnReceived(datagram.Length);
        }

        _receivedFrom = null;

        if (!anyProcessed && IsStatelessReset(datagram))
        {
            Error ??= new ConnectionError((ulong)TransportErrorCode.NoError, false, "stateless reset", true, Cause: ConnectionEndCause.StatelessReset);
            State = ConnectionState.Closed;
            return;
        }

        SetLossDetectionTimer(now);
    }

    private bool ProcessPacket(long now, Span<byte> datagram, int start, ProtectedPacket packet)
    {
        switch (packet.Form)
        {
            case QuicPacketType.VersionNegotiation:
                return OnVersionNegotiation(datagram, packet);
            case QuicPacketType.Retry:
                return OnRetry(datagram[start..packet.End], datagram[packet.SourceConnectionId], datagram[packet.Token]);
            case QuicPacketType.ZeroRtt when !IsServer || _zeroRttReceiveKeys is null:
                return false; // a client gets none; a server without the keys refused 0-RTT or has discarded them (RFC 9001 section 4.6.2)
        }

        bool isLong = packet.Form != QuicPacketType.OneRtt;
        if (isLong && packet.Version != Version)
        {
            return false;
        }

        SpaceId spaceId = packet.Form switch
        {
            QuicPacketType.Initial => SpaceId.Initial,
            QuicPacketType.Handshake => SpaceId.Handshake,
            _ => SpaceId.Application,
        };
        PacketSpace space = Space(spaceId);
        bool zeroRtt = packet.Form == QuicPacketType.ZeroRtt;
        PacketProtection? protection = zeroRtt ? _zeroRttReceiveKeys : space.ReceiveKeys;
        if (protection is null)
        {
            if (spaceId == SpaceId.Initial && space.Discarded)
            {
                OnInitialAfterDiscard(now);
            }

            return false;
        }

        if (spaceId == SpaceId.Application && IsServer && !_tls.IsComplete && !zeroRtt)
        {
            // A server must not process 1-RTT packets before the handshake completes (RFC 9001
            // section 5.7). Acknowledging one would let the client confirm the handshake and drop
            // its Handshake keys while its Finished is still lost (section 4.1.2): both would wait.
            if (_earlyOneRttPackets.Count >= MaxEarlyOneRttPackets)
            {
                return false;
            }

            _earlyOneRttPackets.Add(datagram[start..packet.End].ToArray());
            return true;
        }

        Span<byte> bytes = datagram[start..packet.End];
        int packetNumberOffset = packet.PacketNumberOffset - start;
        long largest = space.Received.Largest is ulong l ? (long)l : -1;
        if (!protection.TryRemoveHeaderProtection(bytes, packetNumberOffset, largest, out ulong packetNumber, out int packetNumberLength))
        {
            return false;
        }

        PacketProtection keys = protection;
        bool nextPhase = false;
        if (spaceId == SpaceId.Application && !zeroRtt)
        {
            keys = _keyPhases!.ReceiveKeysFor((bytes[0] >> 2) & 1, packetNumber, out nextPhase);
        }

        if (!keys.TryDecrypt(bytes, packetNumberOffset + packetNumberLength, packetNumber, out Range payload))
        {
            return false;
        }

        // Reserved bits must be zero once protection is removed (RFC 9000 section 17.2).
        if ((bytes[0] & (isLong ? 0x0c : 0x18)) != 0)
        {
            Fail(now, TransportErrorCode.ProtocolViolation, "reserved header bits are set");
            return true;
        }

        if (nextPhase)
        {
            _keyPhases!.OnNextPhaseOpened(packetNumber);
        }

        if (zeroRtt)
        {
            ZeroRttPacketsReceived++;
        }
        else if (_zeroRttReceiveKeys is not null && packet.Form == QuicPacketType.OneRtt)
        {
            OnOneRttPacketFromClient(now); // only while a server still holds 0-RTT keys: nothing on the steady path
        }

        bool outOfOrder = space.Received.Largest is ulong previousLargest && packetNumber < previousLargest;
        if (!space.Received.Add(packetNumber))
        {
            return true; // A duplicate (RFC 9000 section 12.3).
        }

        if (space.Received.Largest == packetNumber)
        {
            space.LargestReceivedTime = now;
        }

        if (!IsServer && packet.Form == QuicPacketType.Initial && !_receivedFromPeer)
        {
            // The server's first Initial chooses the connection ID to send to (RFC 9000 section 7.2).
            _connectionIds.ReplaceFirstPeerId(datagram[packet.SourceConnectionId].ToArray());
        }

        _receivedFromPeer = true;
        if (IsServer && packet.Form == QuicPacketType.Handshake)
        {
            // A Handshake packet proves the client's address and ends the Initial space (RFC 9001 section 4.9.1).
            _amplification.Validate();
            InitialSpace.Discard(_congestion);
        }

        _lastReceiveTime = now;
        _ackElicitingSentSinceReceive = false;
        ResetIdleTimer(now);
        if (State == ConnectionState.Closing)
        {
            _closeFramePending = true;
        }

        _qlog?.BeginPacketReceived(now, spaceId, packetNumber, bytes.Length, zeroRtt);
        _nonProbingFrameSeen = false;
        bool ackEliciting = ProcessFrames(now, spaceId, bytes[payload], packet.Form);
        _qlog?.EndPacketReceived();
        ConsiderPeerAddress(now, spaceId, packetNumber, probingOnly: !_nonProbingFrameSeen);
        if (ackEliciting && !space.Discarded)
        {
            space.AckPending = true;
            space.UnacknowledgedAckEliciting++;
            if (spaceId == SpaceId.Application)
            {
                long delayed = now + ((long)_localParameters.MaxAckDelay * 1000);
                space.AckDeadline = outOfOrder || space.UnacknowledgedAckEliciting >= 2 ? now : Math.Min(space.AckDeadline ?? long.MaxValue, delayed);
            }
        }

        return true;
    }

    /// <summary>Reads every frame of a packet; returns whether the packet was ack-eliciting.</summary>
    private bool ProcessFrames(long now, SpaceId spaceId, ReadOnlySpan<byte> payload, QuicPacketType form)
    {
        bool ackEliciting = false;
        if (payload.IsEmpty)
        {
            Fail(now, TransportErrorCode.ProtocolViolation, "a packet without frames");
            return false;
        }

        while (!payload.IsEmpty && State is not (ConnectionState.Closed or ConnectionState.Draining))
        {
            if (!FrameReader.TryRead(payload, out Frame frame, out int length, out TransportErrorCode error, out string? reason))
            {
                Fail(now, error, reason ?? "malformed frame", frame.WireType);
                return ackEliciting;
            }

            payload = payload[length..];
            _qlog?.ReceivedFrame(frame, length);
            _nonProbingFrameSeen |= frame.Type is not (FrameType.PathChallenge or FrameType.PathResponse or FrameType.NewConnectionId or FrameType.Padding);
            if (form == QuicPacketType.ZeroRtt ? ForbiddenInZeroRtt(frame.Type)
                : form != QuicPacketType.OneRtt && frame.Type is not (FrameType.Padding or FrameType.Ping or FrameType.Ack or FrameType.AckEcn or FrameType.Crypto or FrameType.ConnectionCloseTransport))
            {
                Fail(now, TransportErrorCode.ProtocolViolation, $"{frame.Type} is not allowed in {form} packets", frame.WireType);
                return ackEliciting;
            }

            ackEliciting |= frame.Type is not (FrameType.Padding or FrameType.Ack or FrameType.AckEcn or FrameType.ConnectionCloseTransport or FrameType.ConnectionCloseApplication);
            if (State == ConnectionState.Closing && frame.Type is not (FrameType.ConnectionCloseTransport or FrameType.ConnectionCloseApplication))
            {
                continue;
            }

            ProcessFrame(now, spaceId, ref frame);
        }

        return ackEliciting;
    }

    private void ProcessFrame(long now, SpaceId spaceId, ref Frame frame)
    {
        switch (frame.Type)
        {
            case FrameType.Padding:
            case FrameType.Ping:
            case FrameType.DataBlocked:
            case FrameType.StreamsBlockedBidi:
            case FrameType.StreamsBlockedUni:
                break;
            case FrameType.PathResponse:
                OnPathResponse(frame.PathData);
                break;
            case FrameType.Ack:
            case FrameType.AckEcn:
                OnAck(now, spaceId, ref frame);
                break;
            case FrameType.Crypto:
                OnCrypto(now, spaceId, ref frame);
                break;
            case FrameType.NewToken:
                if (IsServer)
                {
                    Fail(now, TransportErrorCode.ProtocolViolation, "a client sent NEW_TOKEN", frame.WireType);
                }
                else
                {
                    ReceivedNewToken = frame.Token.ToArray();
                }

                break;
            case FrameType.HandshakeDone:
                if (IsServer)
                {
                    Fail(now, TransportErrorCode.ProtocolViolation, "a client sent HANDSHAKE_DONE", frame.WireType);
                }
                else
                {
                    ConfirmHandshake();
                }

                break;
            case FrameType.NewConnectionId:
                OnNewConnectionId(now, ref frame);
                break;
            case FrameType.RetireConnectionId:
                OnRetireConnectionId(now, ref frame);
                break;
            case FrameType.PathChallenge:
                if (_pending.PathResponses.Count < 4)
                {
                    _pending.PathResponses.Add(frame.PathData.ToArray());
                }

                break;
            case FrameType.ConnectionCloseTransport:
            case FrameType.ConnectionCloseApplication:
                EnterDraining(now, new ConnectionError(
                    frame.ErrorCode,
                    frame.Type == FrameType.ConnectionCloseApplication,
                    System.Text.Encoding.UTF8.GetString(frame.Reason),
                    ByPeer: true,
                    frame.ClosingFrameType));
                break;
            case FrameType.Datagram:
            case FrameType.DatagramWithLength:
                OnDatagramFrame(now, ref frame);
                break;
            default:
                ProcessStreamFrame(now, ref frame);
                break;
        }
    }

    private void OnAck(long now, SpaceId spaceId, ref Frame frame)
    {
        PacketSpace space = Space(spaceId);
        if (frame.LargestAcknowledged >= space.NextPacketNumber)
        {
            Fail(now, TransportErrorCode.ProtocolViolation, "ACK of a packet number never sent", frame.WireType);
            return;
        }

        Span<(ulong Smallest, ulong Largest)> ranges = stackalloc (ulong, ulong)[MaxAckRangesRead];
        int count = frame.GetAckRanges(ranges);
        int exponent = PeerParameters is { } peer ? (int)peer.AckDelayExponent : 3;
        long ackDelay = spaceId == SpaceId.Application ? (long)Math.Min(frame.AckDelay, (ulong)long.MaxValue >> 21) << exponent : 0;
        AckOutcome outcome = space.Loss.OnAckReceived(ranges[..count], ackDelay, now, _rtt, PeerMaxAckDelay, HandshakeConfirmed, _congestion);
        for (int i = 0; i < outcome.Acknowledged.Count; i++) // an index, not foreach: an IReadOnlyList's enumerator is boxed
        {
            SentPacket packet = outcome.Acknowledged[i];
            if (spaceId == SpaceId.Application)
            {
                _keyPhases?.OnPacketAcknowledged(packet.Number);
                OnPathMtuPacketAcknowledged(now, packet);
            }

            foreach (SentFrame sent in packet.Frames)
            {
                OnFrameAcknowledged(space, sent);
            }
        }

        OnPacketsLost(space, outcome.Lost);
        bool anyAcknowledged = outcome.Acknowledged.Count > 0;
        space.Loss.ReleaseResults(); // the outcome's packets describe later ones from here on
        if (_congestion.BytesInFlight == 0 && _sentPackets.Count > SentPacketPool.IdleCapacity)
        {
            // Not at once: a bulk transfer empties its flight for a moment now and then, and would
            // make all its records again (RecordTrimDelay).
            _timers[TimerKind.TrimRecords] ??= now + RecordTrimDelay;
        }

        if (anyAcknowledged)
        {
            _qlog?.MetricsUpdated(now, _rtt, _congestion.CongestionWindow, _congestion.BytesInFlight);
            if (!IsServer && spaceId != SpaceId.Initial)
            {
                _peerAddressValidated = true;
            }

            // A client not yet sure the server validated its address keeps the backoff across
            // Initial ACKs (RFC 9002 section 6.2.1); resetting it there made the client probe at
            // the tiny RTT of ACKs alone while the server's flight stayed lost: a PING/ACK storm.
            if (IsServer || spaceId != SpaceId.Initial || _peerAddressValidated)
            {
                _ptoCount = 0;
            }
        }
    }

    private void OnCrypto(long now, SpaceId spaceId, ref Frame frame)
    {
        PacketSpace space = Space(spaceId);
        TransportErrorCode error = space.CryptoReceive.Receive(frame.Offset, frame.Data, false);
        if (error != TransportErrorCode.NoError)
        {
            Fail(now, error, "CRYPTO data beyond the buffer", frame.WireType);
            return;
        }

        while (space.CryptoReceive.Readable > 0)
        {
            byte[] data = new byte[(int)space.CryptoReceive.Readable];
            space.CryptoReceive.Read(data);
            space.CryptoReceive.RaiseLimit(space.CryptoReceive.ReadOffset + (64 * 1024));
            if (!_tls.Receive(space.Level, data))
            {
                TlsAlert alert = _tls.Alert ?? TlsAlert.InternalError;
                TransportErrorCode code = _tls.IsProtocolViolation ? TransportErrorCode.ProtocolViolation : (TransportErrorCode)(0x100 + (int)alert);
                Fail(now, code, _tls.FailureReason ?? "TLS handshake failed", frame.WireType);
                return;
            }
        }

        AfterHandshakeProgress(now);
    }

    /// <summary>The 1-RTT packets held back until the handshake completed, processed now in arrival order.</summary>
    private void ProcessEarlyOneRttPackets(long now)
    {
        foreach (byte[] early in _earlyOneRttPackets)
        {
            if (State == ConnectionState.Closed || !ProtectedPacketReader.TryRead(early, 0, _options.ConnectionIds.ConnectionIdLength, out ProtectedPacket packet) || !ProcessPacket(now, early, 0, packet))
            {
                DroppedPackets++;
            }
        }

        _earlyOneRttPackets.Clear();
    }

    /// <summary>Installs keys and applies the peer's transport parameters as the TLS handshake advances.</summary>
    private void AfterHandshakeProgress(long now)
    {
        CollectHandshakeOutput();
        CipherSuite suite = _tls.Suite ?? Crypto.CipherSuite.Aes128GcmSha256;
        if (_tls.HandshakeSecrets is (byte[] clientHandshake, byte[] serverHandshake) && HandshakeSpace.SendKeys is null && !HandshakeSpace.Discarded)
        {
            InstallKeys(HandshakeSpace, suite, clientHandshake, serverHandshake);
        }

        AfterEarlyDataProgress();
        if (_tls.ApplicationSecrets is (byte[] client, byte[] server) && _keyPhases is null)
        {
            _keyPhases = new KeyPhaseState(suite, Version, IsServer ? server : client, IsServer ? client : server, ApplicationSpace);
        }

        WriteKeyLog();
        if (!_peerParametersApplied && _tls.PeerTransportParameters is byte[] encoded && !ApplyPeerParameters(now, encoded))
        {
            return;
        }

        if (_tls.IsComplete && State == ConnectionState.Handshaking)
        {
            State = ConnectionState.Established;
            HandshakeSucceeded = true;
            IssueConnectionIds();
            if (IsServer)
            {
                _pending.HandshakeDone = true;
                _pending.NewToken = _options.NewToken?.Invoke();
                ConfirmHandshake();
            }
        }
    }

    /// <summary>Moves TLS output into the CRYPTO streams of each level.</summary>
    private void CollectHandshakeOutput()
    {
        foreach (PacketSpace space in _spaces)
        {
            byte[] output = _tls.TakeOutput(space.Level);
            if (output.Length > 0 && !space.Discarded)
            {
                space.CryptoSend.Write(output);
            }
        }
    }

    /// <summary>
    /// Client: the server still sends Initial packets after this client discarded its Initial keys,
    /// which it did on sending its first Handshake packet (RFC 9001 section 4.9.1). A server drops
    /// its Initial keys on receiving a Handshake packet, so it has received none of this client's:
    /// the flight that carries the client's Finished was lost, and the server, unable to validate
    /// the address, may be blocked by the anti-amplification limit (RFC 9000 section 8.1), sending
    /// Initial probes the client cannot read. Waiting for the client's own PTO — with no RTT sample
    /// and the backoff kept, 2 s and more — outlasts a server's handshake timeout, so the Handshake
    /// flight goes again now, twice. Bounded per connection; each answer is smaller than the
    /// datagram that caused it and goes only to the server.
    /// </summary>
    private void OnInitialAfterDiscard(long now)
    {
        PacketSpace handshake = HandshakeSpace;
        if (IsServer || HandshakeConfirmed || handshake.Discarded || handshake.Loss.AckElicitingInFlight == 0
            || _handshakeResendsOnServerInitial >= MaxHandshakeResendsOnServerInitial)
        {
            return;
        }

        _handshakeResendsOnServerInitial++;
        handshake.ProbesWanted = 2; // two datagrams, each with the whole flight, as a PTO would send
        RequeueUnacknowledged(handshake, int.MaxValue);
    }

    /// <summary>The handshake is confirmed (RFC 9001 section 4.1.2): Handshake keys go (section 4.9.2).</summary>
    private void ConfirmHandshake()
    {
        _qlog?.StateUpdated(_now, "handshake_confirmed");
        _lastAckElicitingSent = Math.Max(_lastAckElicitingSent, _now); // the keep-alive interval starts here
        HandshakeConfirmed = true;
        _peerAddressValidated = true;
        InitialSpace.Discard(_congestion);
        HandshakeSpace.Discard(_congestion);

        // The peer's max_udp_payload_size is known and both sides hold 1-RTT keys: the path may be probed (RFC 9000 section 14.3).
        int ceiling = (int)Math.Min((ulong)_options.MaxUdpPayloadSize, PeerParameters?.MaxUdpPayloadSize ?? MinimumInitialDatagramSize);
        int before = _pathMtu.Current;
        _pathMtu.Start(ceiling, _now);
        OnPathMtuChanged(before);
    }

    private bool ApplyPeerParameters(long now, byte[] encoded)
    {
        TransportParameters? parameters = TransportParameters.TryDecode(encoded, fromServer: !IsServer, out string? error);
        if (parameters is null)
        {
            Fail(now, TransportErrorCode.TransportParameterError, error ?? "invalid transport parameters");
            return false;
        }

        // Authenticate the connection IDs of the handshake (RFC 9000 section 7.3).
        string? mismatch = null;
        if (parameters.InitialSourceConnectionId is null || !parameters.InitialSourceConnectionId.AsSpan().SequenceEqual(_connectionIds.FirstPeerId))
        {
            mismatch = "initial_source_connection_id does not match the peer's Source Connection ID";
        }
        else if (!IsServer && (parameters.OriginalDestinationConnectionId is null || !parameters.OriginalDestinationConnectionId.AsSpan().SequenceEqual(_originalDestinationConnectionId)))
        {
            mismatch = "original_destination_connection_id does not match";
        }
        else if (!IsServer && _retryReceived != parameters.RetrySourceConnectionId is not null)
        {
            mismatch = _retryReceived ? "retry_source_connection_id is missing after a Retry" : "retry_source_connection_id without a Retry";
        }
        else if (!IsServer && _retryReceived && !parameters.RetrySourceConnectionId.AsSpan().SequenceEqual(_retrySourceConnectionId))
        {
            mismatch = "retry_source_connection_id does not match the Retry";
        }

        if (mismatch is not null)
        {
            Fail(now, TransportErrorCode.TransportParameterError, mismatch);
            return false;
        }

        _peerParametersApplied = true;
        if (!CheckParametersAfterEarlyData(now, parameters))
        {
            return false;
        }

        PeerParameters = parameters;
        _qlog?.ParametersSet(now, local: false, parameters);
        _flowControl.RaisePeerLimit(parameters.InitialMaxData);
        _bidirectionalStreams.RaisePeerLimit(parameters.InitialMaxStreamsBidi);
        _unidirectionalStreams.RaisePeerLimit(parameters.InitialMaxStreamsUni);
        if (!IsServer && parameters.StatelessResetToken is byte[] token)
        {
            _connectionIds.SetFirstPeerResetToken(token);
        }

        ResetIdleTimer(now);
        return true;
    }

    private bool OnVersionNegotiation(ReadOnlySpan<byte> datagram, ProtectedPacket packet)
    {
        // Only before anything else came from the server, and only if it echoes our IDs (RFC 9000 section 6.2).
        if (IsServer || _receivedFromPeer || !datagram[packet.DestinationConnectionId].SequenceEqual(_connectionIds.FirstLocalId)
            || !datagram[packet.SourceConnectionId].SequenceEqual(_originalDestinationConnectionId))
        {
            return false;
        }

        ReadOnlySpan<byte> list = datagram[packet.SourceConnectionId.End.Value..packet.End];
        var offered = new List<string>();
        for (; list.Length >= 4; list = list[4..])
        {
            uint version = BinaryPrimitives.ReadUInt32BigEndian(list);
            if (version == Version)
            {
                return false; // A VN packet listing our own version is ignored.
            }

            offered.Add($"0x{version:x8}");
        }

        Error = new ConnectionError(
            (ulong)TransportErrorCode.NoError,
            false,
            $"no compatible QUIC version: this endpoint speaks 0x{Version:x8}, the server offers {(offered.Count == 0 ? "none" : string.Join(", ", offered))}",
            ByPeer: true,
            Cause: ConnectionEndCause.VersionNegotiation);
        State = ConnectionState.Closed;
        return true;
    }

    private bool OnRetry(ReadOnlySpan<byte> packet, ReadOnlySpan<byte> sourceConnectionId, ReadOnlySpan<byte> token)
    {
        // One Retry, before any other server packet, with a valid tag and a token (RFC 9000 section 17.2.5.2).
        if (IsServer || _retryReceived || _receivedFromPeer || token.IsEmpty || sourceConnectionId.SequenceEqual(_connectionIds.PeerCurrent)
            || !RetryIntegrity.IsValid(Version, _originalDestinationConnectionId, packet))
        {
            return false;
        }

        _retryReceived = true;
        if (_zeroRttSending)
        {
            ForgetZeroRttPackets(); // the server dropped them; they go again as 0-RTT to its new connection ID
        }

        _retrySourceConnectionId = sourceConnectionId.ToArray();
        _connectionIds.ReplaceFirstPeerId(_retrySourceConnectionId);
        _token = token.ToArray();
        (byte[] client, byte[] server) = InitialSecrets.Derive(Version, _retrySourceConnectionId);
        InstallKeys(InitialSpace, Crypto.CipherSuite.Aes128GcmSha256, client, server);

        // Send the ClientHello again under the new keys; packet numbers keep increasing (section 17.2.5.3).
        PacketSpace initial = InitialSpace;
        initial.Loss.Discard(_congestion);
        initial.CryptoSend.OnLost(0, (int)initial.CryptoSend.SentEnd, false);
        _ptoCount = 0;
        return true;
    }

    private bool IsStatelessReset(ReadOnlySpan<byte> datagram)
    {
        // A datagram that is not a valid packet but ends with a token the peer gave us (RFC 9000 section 10.3.1).
        if (datagram.Length < 21 || (datagram[0] & 0x80) != 0)
        {
            return false;
        }

        return _connectionIds.IsPeerResetToken(datagram[^16..]);
    }

    private long PeerMaxAckDelay => PeerParameters is { } peer ? (long)peer.MaxAckDelay * 1000 : 25_000;
}
