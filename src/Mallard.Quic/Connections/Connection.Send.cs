using System.Buffers.Binary;
using Mallard.Quic.Frames;
using Mallard.Quic.Packets;
using Mallard.Quic.Recovery;

namespace Mallard.Quic.Connections;

/// <summary>
/// The sending half: packets assembled and coalesced into datagrams (RFC 9000 sections 12.2, 13
/// and 14), protected (RFC 9001 section 5), within the congestion window and the server's
/// anti-amplification limit (RFC 9000 section 8.1), and the loss detection timer (RFC 9002
/// section 6.2 and appendix A).
/// </summary>
internal sealed partial class Connection
{
    /// <summary>A packet's header, payload and tag never need less room than this.</summary>
    private const int MinimumPacketRoom = 64;

    private readonly List<SentFrame>[] _framesInPacket = [[], [], []];
    /// <summary>
    /// Scratch space for CRYPTO and STREAM data on its way into a packet, one per thread rather than
    /// per connection: it is only used within one Send call, and 64 KiB per connection was most of
    /// an idle connection's memory (bench/scale.sh).
    /// </summary>
    [ThreadStatic]
    private static byte[]? t_chunk;

    private static byte[] Chunk => t_chunk ??= new byte[65_536];

    /// <summary>Whether the pacer lets in-flight packets go in the datagram being built.</summary>
    private bool _pacingOpen;

    /// <summary>Set while building: ack-eliciting frames waited for the window or the pacer.</summary>
    private bool _sendBlocked;

    // Whether the datagram being built carries a probe (LastDatagramStandsAlone).
    private bool _probeInDatagram;

    /// <summary>
    /// Whether the datagram the last <see cref="Send(long, Span{byte})"/> wrote should be sent on its
    /// own rather than joined with the next ones into one segmented (GSO) send: a handshake
    /// datagram or a probe. Joined datagrams travel as one packet until they are segmented — on
    /// loopback and veth links, not before the receiving socket — so a filter or a queue that drops
    /// one drops them all, and the redundancy of sending two probes (RFC 9002 section 6.2.4) is lost.
    /// </summary>
    public bool LastDatagramStandsAlone => !HandshakeConfirmed || _probeInDatagram;


    /// <summary>
    /// Writes the next datagram to send into <paramref name="datagram"/> and returns its length,
    /// or 0 when there is nothing to send now. The host calls it until it returns 0.
    /// </summary>
    public int Send(long now, Span<byte> datagram)
    {
        _now = now;
        _probeInDatagram = false;
        if (State is ConnectionState.Closed or ConnectionState.Draining || (State == ConnectionState.Closing && !_closeFramePending))
        {
            return 0;
        }

        bool closing = State == ConnectionState.Closing;
        int max = Math.Min(datagram.Length, MaxUdpPayload);
        if (AmplificationLimited)
        {
            return 0;
        }

        max = (int)Math.Min(max, _amplification.Allowance);

        if (max < MinimumPacketRoom)
        {
            return 0;
        }

        long pacingDelay = _pacer.Delay(now, max, _congestion.CongestionWindow, _rtt.SmoothedRtt, MaxUdpPayload);
        _pacingOpen = pacingDelay == 0;
        _sendBlocked = false;
        if (!closing && TrySendPathMtuProbe(now, datagram) is int probeLength and > 0)
        {
            return probeLength;
        }

        Span<PacketLayout> layouts = stackalloc PacketLayout[3];
        int count = 0;
        int offset = 0;
        bool padToMinimum = false;
        bool discardInitial = false;
        _pathChallengeInDatagram = false;
        foreach (PacketSpace space in _spaces)
        {
            if (!space.CanSend || max - offset < MinimumPacketRoom)
            {
                continue;
            }

            // Once the handshake is confirmed, a closing endpoint only needs the 1-RTT close (RFC 9000 section 10.2.3).
            if (closing && space.Id != SpaceId.Application && ApplicationSpace.CanSend && HandshakeConfirmed)
            {
                continue;
            }

            if (!BuildPacket(now, space.Id, datagram[offset..max], offset, closing, out PacketLayout layout))
            {
                continue;
            }

            layouts[count++] = layout;
            offset += layout.Length;
            if (space.Id == SpaceId.Initial)
            {
                padToMinimum |= !IsServer || layout.AckEliciting;
            }
            else if (space.Id == SpaceId.Handshake && !IsServer)
            {
                discardInitial = true; // The client's first Handshake packet ends the Initial space (RFC 9001 section 4.9.1).
            }
        }

        if (count == 0)
        {
            // Nothing went: say why, so that the window grows only when it is used (RFC 9002 section 7.8)
            // and the pacer's wake-up is armed only when something waits for it.
            _congestion.ApplicationLimited = !_sendBlocked;
            _timers[TimerKind.Pacing] = _sendBlocked && !_pacingOpen && !closing ? now + pacingDelay : null;
            return 0;
        }

        _timers[TimerKind.Pacing] = null;

        // A PATH_CHALLENGE also checks that the new path carries 1200-octet datagrams (RFC 9000 section 8.2.1).
        padToMinimum |= _pathChallengeInDatagram;

        if (padToMinimum && offset < MinimumInitialDatagramSize && max >= MinimumInitialDatagramSize)
        {
            // PADDING frames in the last packet bring the datagram to 1200 octets (RFC 9000 section 14.1).
            int padding = MinimumInitialDatagramSize - offset;
            ref PacketLayout last = ref layouts[count - 1];
            datagram.Slice(last.PayloadOffset + last.PayloadLength, padding).Clear();
            last.PayloadLength += padding;
            offset += padding;
        }

        for (int i = 0; i < count; i++)
        {
            Seal(now, datagram, layouts[i]);
        }

        _amplification.OnSent(offset);
        if (discardInitial)
        {
            InitialSpace.Discard(_congestion);
        }

        if (closing)
        {
            _closeFramePending = false;
        }
        else
        {
            SetLossDetectionTimer(now);
        }

        return offset;
    }

    /// <summary>
    /// A server that has not validated the client's current address — during the handshake, or
    /// after the client moved (RFC 9000 section 9.3.1) — may send at most three times what it
    /// received from it (section 8.1); while the allowance is too small for a datagram, it sends
    /// nothing and arms no timer that would only want to send (RFC 9002 section 6.2.2.1).
    /// </summary>
    private bool AmplificationLimited =>

        // Initial datagrams are padded to 1200 octets; wait for more from the client.
        _amplification.Allowance < (InitialSpace.Discarded ? MinimumPacketRoom : MinimumInitialDatagramSize);

    /// <summary>The largest datagram to send on the current path now: 1200 until the handshake is confirmed, then what path MTU discovery confirmed.</summary>
    private int MaxUdpPayload => _pathMtu.Current;

    /// <summary>How soon after the last packet arrived a DATAGRAM counts as its answer and carries the pending ACK (microseconds).</summary>
    private const long AnswerWindow = 1_000;

    /// <summary>
    /// An acknowledgement that is not yet due stays out of a DATAGRAM sent over <see cref="AnswerWindow"/>
    /// after the last packet arrived: such a datagram starts an exchange (a telemetry sample, a new
    /// request), and its peer then hands it on without first processing an ACK frame (20–25 µs of
    /// each idle round trip with quic-go's server here, BENCHMARKS.md). The ACK goes when it falls
    /// due — at the second ack-eliciting packet or after max_ack_delay (RFC 9000 section 13.2.1).
    /// A datagram sent sooner is an answer and carries it, sparing the peer a packet; so does stream data.
    /// </summary>
    private bool LeavesAckForDatagram(SpaceId spaceId, PacketSpace space, long now) =>
        spaceId == SpaceId.Application && HasDatagramsToSend && now - space.LargestReceivedTime > AnswerWindow;

    /// <summary>Lays out one packet of <paramref name="spaceId"/> unprotected; false when it would carry nothing.</summary>
    private bool BuildPacket(long now, SpaceId spaceId, Span<byte> buffer, int datagramOffset, bool closing, out PacketLayout layout)
    {
        layout = default;
        PacketSpace space = Space(spaceId);
        bool probe = space.ProbesWanted > 0;
        _probeInDatagram |= probe;
        bool congestionLimited = !closing && !probe && (!_pacingOpen || !_congestion.CanSend(buffer.Length));
        bool ackDue = space.AckPending && (spaceId != SpaceId.Application || space.UnacknowledgedAckEliciting >= 2 || (space.AckDeadline is long deadline && now >= deadline));
        bool hasFrames = closing || probe || ackDue || (!congestionLimited && HasAckElicitingToSend(spaceId));
        if (!hasFrames)
        {
            _sendBlocked |= congestionLimited && HasAckElicitingToSend(spaceId);
            return false;
        }

        ulong packetNumber = space.NextPacketNumber;
        int packetNumberLength = PacketNumberLength(packetNumber, space.Loss.LargestAcknowledged);
        int position;
        int lengthOffset = -1;
        if (spaceId != SpaceId.Application || _zeroRttSending)
        {
            // Long header (RFC 9000 section 17.2): Initial type 0, 0-RTT type 1, Handshake type 2.
            int type = spaceId switch { SpaceId.Initial => 0, SpaceId.Handshake => 2, _ => 1 };
            buffer[0] = (byte)(0xc0 | (type << 4) | (packetNumberLength - 1));
            BinaryPrimitives.WriteUInt32BigEndian(buffer[1..], Version);
            position = 5;
            byte[] destination = _connectionIds.PeerCurrent;
            buffer[position++] = (byte)destination.Length;
            destination.CopyTo(buffer[position..]);
            position += destination.Length;
            byte[] source = _connectionIds.FirstLocalId;
            buffer[position++] = (byte)source.Length;
            source.CopyTo(buffer[position..]);
            position += source.Length;
            if (spaceId == SpaceId.Initial)
            {
                position += VariableLengthInteger.TryWrite(buffer[position..], (ulong)(IsServer ? 0 : _token.Length));
                if (!IsServer)
                {
                    _token.CopyTo(buffer[position..]);
                    position += _token.Length;
                }
            }

            lengthOffset = position;
            position += 2; // A two-octet Length, filled in once the payload is known.
        }
        else
        {
            position = WriteShortHeader(buffer, packetNumberLength);
        }

        int packetNumberOffset = position;
        position += WritePacketNumber(buffer[position..], packetNumber, packetNumberLength);

        int payloadRoom = buffer.Length - position - Crypto.PacketProtection.TagLength;
        if (payloadRoom < 8)
        {
            return false;
        }

        var writer = new FrameWriter(buffer.Slice(position, payloadRoom));
        List<SentFrame> frames = _framesInPacket[(int)spaceId];
        frames.Clear();
        if (closing)
        {
            WriteConnectionClose(ref writer, spaceId);
            frames.Add(new SentFrame(SentFrameKind.ConnectionClose));
        }
        else
        {
            if (space.AckPending && (ackDue || probe || (!congestionLimited && !LeavesAckForDatagram(spaceId, space, now))))
            {
                WriteAck(now, space, ref writer, frames);
            }

            if (!congestionLimited || probe)
            {
                if (probe && spaceId != SpaceId.Application && !space.CryptoSend.HasDataToSend)
                {
                    // Every handshake probe carries the unacknowledged CRYPTO data, not only the first
                    // of two (RFC 9002 section 6.2.4): a lost Finished then has two chances, not one and a PING.
                    RequeueUnacknowledged(space, int.MaxValue);
                }

                WriteCrypto(space, ref writer, frames);
                if (spaceId == SpaceId.Application)
                {
                    WriteApplicationFrames(now, ref writer, frames);
                }
            }
        }

        bool ackEliciting = frames.Exists(f => f.Kind is not (SentFrameKind.Ack or SentFrameKind.ConnectionClose));
        if (probe && !ackEliciting && !closing)
        {
            writer.Ping();
            frames.Add(new SentFrame(SentFrameKind.Ping));
            ackEliciting = true;
        }

        if (writer.Length == 0)
        {
            return false;
        }

        if (probe && ackEliciting)
        {
            space.ProbesWanted--;
        }

        // Header protection samples 16 octets starting 4 after the packet number (RFC 9001 section 5.4.2).
        if (packetNumberLength + writer.Length < 4)
        {
            writer.Padding(4 - packetNumberLength - writer.Length);
        }

        space.NextPacketNumber++;
        layout = new PacketLayout(spaceId, datagramOffset, lengthOffset < 0 ? -1 : datagramOffset + lengthOffset, datagramOffset + packetNumberOffset, packetNumberLength, datagramOffset + position, writer.Length, packetNumber, ackEliciting);
        return true;
    }

    private void Seal(long now, Span<byte> datagram, PacketLayout layout)
    {
        PacketSpace space = Space(layout.Space);
        if (layout.LengthOffset >= 0)
        {
            int length = layout.PacketNumberLength + layout.PayloadLength + Crypto.PacketProtection.TagLength;
            BinaryPrimitives.WriteUInt16BigEndian(datagram[layout.LengthOffset..], (ushort)(0x4000 | length));
        }

        Span<byte> packet = datagram[layout.Start..(layout.PayloadOffset + layout.PayloadLength + Crypto.PacketProtection.TagLength)];
        space.SendKeys!.Protect(packet, layout.PacketNumberOffset - layout.Start, layout.PacketNumberLength, layout.PacketNumber, layout.PayloadLength);
        List<SentFrame> frames = _framesInPacket[(int)layout.Space];
        bool inFlight = layout.AckEliciting; // ACK-only packets do not count against the window (RFC 9002 section 2).
        SentPacket sent = _sentPackets.Rent();
        sent.Reset(layout.PacketNumber, now, packet.Length, layout.AckEliciting, inFlight, layout.MtuProbe, System.Runtime.InteropServices.CollectionsMarshal.AsSpan(frames));
        if (layout.AckEliciting && layout.Space == SpaceId.Application)
        {
            _lastAckElicitingSent = now;
            _pending.Ping = false;
        }

        space.Loss.OnPacketSent(sent, _congestion);
        if (inFlight)
        {
            _pacer.OnPacketSent(packet.Length);
        }
        bool zeroRtt = layout.Space == SpaceId.Application && layout.LengthOffset >= 0;
        ZeroRttPacketsSent += zeroRtt ? 1 : 0;
        _qlog?.PacketSent(now, layout.Space, layout.PacketNumber, packet.Length, frames, zeroRtt);
        if (layout.AckEliciting && !_ackElicitingSentSinceReceive)
        {
            _ackElicitingSentSinceReceive = true;
            ResetIdleTimer(now); // Sending the first ack-eliciting packet after a receipt restarts the idle timer (RFC 9000 section 10.1).
        }

        if (layout.Space == SpaceId.Application)
        {
            if (_keyPhases?.OnPacketSent(_options.KeyUpdateInterval) == true)
            {
                UpdateKeys();
            }
        }
    }

    /// <summary>A 1-RTT packet's short header up to the packet number (RFC 9000 section 17.3.1); returns its length.</summary>
    private int WriteShortHeader(Span<byte> buffer, int packetNumberLength)
    {
        buffer[0] = (byte)(0x40 | (KeyPhase << 2) | (packetNumberLength - 1));
        byte[] destination = _connectionIds.PeerCurrent;
        destination.CopyTo(buffer[1..]);
        return 1 + destination.Length;
    }

    /// <summary>The truncated packet number, most significant octet first; returns its length.</summary>
    private static int WritePacketNumber(Span<byte> buffer, ulong packetNumber, int packetNumberLength)
    {
        for (int i = 0; i < packetNumberLength; i++)
        {
            buffer[i] = (byte)(packetNumber >> (8 * (packetNumberLength - 1 - i)));
        }

        return packetNumberLength;
    }

    /// <summary>Enough packet number octets for twice the unacknowledged range (RFC 9000 section 17.1).</summary>
    private static int PacketNumberLength(ulong packetNumber, ulong? largestAcknowledged)
    {
        ulong range = 2 * (packetNumber - (largestAcknowledged is ulong acked ? acked : ulong.MaxValue) + 1);
        return range switch
        {
            < 1UL << 8 => 1,
            < 1UL << 16 => 2,
            < 1UL << 24 => 3,
            _ => 4,
        };
    }

    private bool HasAckElicitingToSend(SpaceId spaceId)
    {
        PacketSpace space = Space(spaceId);
        if (space.CryptoSend.HasDataToSend)
        {
            return true;
        }

        if (spaceId != SpaceId.Application || !(_tls.IsComplete || IsServer || _zeroRttSending))
        {
            return false;
        }

        return _pending.Any || _connectionIds.HasFramesToSend
            || HasStreamFramesToSend() || HasDatagramsToSend;
    }

    private void WriteAck(long now, PacketSpace space, ref FrameWriter writer, List<SentFrame> frames)
    {
        IReadOnlyList<(ulong Smallest, ulong Largest)> received = space.Received.Ranges;
        if (received.Count == 0)
        {
            return;
        }

        Span<(ulong Smallest, ulong Largest)> ranges = stackalloc (ulong, ulong)[received.Count];
        for (int i = 0; i < received.Count; i++)
        {
            ranges[i] = received[i];
        }

        int exponent = space.Level == Tls.EncryptionLevel.OneRtt ? (int)_localParameters.AckDelayExponent : 3;
        ulong delay = (ulong)Math.Max(0, now - space.LargestReceivedTime) >> exponent;
        if (writer.Ack(ranges, delay))
        {
            frames.Add(new SentFrame(SentFrameKind.Ack, ranges[0].Largest));
            space.AckPending = false;
            space.AckDeadline = null;
            space.UnacknowledgedAckEliciting = 0;
        }
    }

    private void WriteCrypto(PacketSpace space, ref FrameWriter writer, List<SentFrame> frames)
    {
        while (space.CryptoSend.HasDataToSend && writer.Remaining > 24)
        {
            int room = writer.Remaining - 1 - VariableLengthInteger.EncodedLength(space.CryptoSend.WrittenEnd) - 4;
            if (!space.CryptoSend.TryNext(room, Chunk, out ulong offset, out int length, out _) || length == 0)
            {
                break;
            }

            writer.Crypto(offset, Chunk.AsSpan(0, length));
            frames.Add(new SentFrame(SentFrameKind.Crypto, 0, offset, length));
        }
    }

    private void WriteConnectionClose(ref FrameWriter writer, SpaceId spaceId)
    {
        ConnectionError error = Error ?? new ConnectionError(0, true, "", false);
        byte[] reason = System.Text.Encoding.UTF8.GetBytes(error.Reason.Length > 200 ? error.Reason[..200] : error.Reason);
        if (error.IsApplication && spaceId != SpaceId.Application)
        {
            // An application close before the handshake is confirmed hides its code (RFC 9000 section 10.2.3).
            writer.ConnectionClose(false, (ulong)Transport.TransportErrorCode.ApplicationError, 0, []);
            return;
        }

        writer.ConnectionClose(error.IsApplication, error.Code, error.FrameType, reason);
    }

    private void SetLossDetectionTimer(long now)
    {
        long? earliestLoss = null;
        foreach (PacketSpace space in _spaces)
        {
            if (space.Loss.LossTime is long lossTime && (earliestLoss is null || lossTime < earliestLoss))
            {
                earliestLoss = lossTime;
            }
        }

        if (earliestLoss is not null)
        {
            _timers[TimerKind.LossDetection] = earliestLoss;
            return;
        }

        bool anyInFlight = Array.Exists(_spaces, s => !s.Discarded && s.Loss.AckElicitingInFlight > 0);
        if (AmplificationLimited || (!anyInFlight && (IsServer || _peerAddressValidated)))
        {
            _timers[TimerKind.LossDetection] = null;
            return;
        }

        _timers[TimerKind.LossDetection] = ProbeTimeout(now, out _);
    }

    /// <summary>When the PTO fires and for which space (RFC 9002 appendix A.8, GetPtoTimeAndSpace).</summary>
    private long? ProbeTimeout(long now, out SpaceId spaceId)
    {
        long duration = _rtt.ProbeTimeout(0) << Math.Min(_ptoCount, 16);
        spaceId = HandshakeSpace.CanSend ? SpaceId.Handshake : SpaceId.Initial;
        if (!Array.Exists(_spaces, s => !s.Discarded && s.Loss.AckElicitingInFlight > 0))
        {
            return now + duration; // The client's anti-deadlock probe (RFC 9002 section 6.2.2.1).
        }

        long? best = null;
        foreach (PacketSpace space in _spaces)
        {
            if (space.Discarded || space.Loss.AckElicitingInFlight == 0 || space.Loss.TimeOfLastAckEliciting is not long lastSent)
            {
                continue;
            }

            if (space.Id == SpaceId.Application)
            {
                if (!HandshakeConfirmed)
                {
                    break;
                }

                duration += PeerMaxAckDelay << Math.Min(_ptoCount, 16);
            }

            long time = lastSent + duration;
            if (best is null || time < best)
            {
                best = time;
                spaceId = space.Id;
            }
        }

        return best;
    }

    private void OnLossDetectionTimeout(long now)
    {
        PacketSpace? lossSpace = null;
        foreach (PacketSpace candidate in _spaces)
        {
            if (candidate.Loss.LossTime is long lossTime && lossTime <= now && (lossSpace is null || lossTime < lossSpace.Loss.LossTime))
            {
                lossSpace = candidate;
            }
        }

        if (lossSpace is not null)
        {
            List<SentPacket> lost = lossSpace.Loss.DetectLost(now, _rtt);
            if (lost.Count > 0)
            {
                _congestion.OnPacketsLost(LossDetector.BytesInFlightOf(lost), LossDetector.LatestSendTimeOf(lost), now);
            }

            OnPacketsLost(lossSpace, lost);
            lossSpace.Loss.ReleaseResults();
            SetLossDetectionTimer(now);
            return;
        }

        OnPathMtuProbeTimeout(); // OnTimeout has set _now
        ProbeTimeout(now, out SpaceId spaceId);
        PacketSpace space = Space(spaceId);
        if (!space.CanSend)
        {
            _timers[TimerKind.LossDetection] = null;
            return;
        }

        // Two probes in the PTO's space, and one in every other space with data in flight or
        // CRYPTO data waiting to be sent again, each carrying the oldest unacknowledged data
        // (RFC 9002 section 6.2.4). Probes pass the congestion window: a server whose Initial
        // flight was lost must not probe only in Handshake packets the client cannot read while
        // its lost ServerHello waits behind them for a window they fill.
        foreach (PacketSpace probed in _spaces)
        {
            bool pending = probed.Loss.AckElicitingInFlight > 0 || (probed.Id != SpaceId.Application && probed.CryptoSend.HasDataToSend);
            if (probed.Id != spaceId && (probed.Discarded || !probed.CanSend || !pending))
            {
                continue;
            }

            probed.ProbesWanted = probed.Id == spaceId ? 2 : Math.Max(probed.ProbesWanted, 1);
            RequeueUnacknowledged(probed, probed.Id == SpaceId.Application ? 1 : int.MaxValue);
        }

        _ptoCount++;
        SetLossDetectionTimer(now);
    }

    /// <summary>Queues again what the oldest <paramref name="packets"/> unacknowledged ack-eliciting packets of <paramref name="space"/> carried, for a probe to take.</summary>
    private void RequeueUnacknowledged(PacketSpace space, int packets)
    {
        IReadOnlyList<SentPacket> unacknowledged = space.Loss.Unacknowledged;
        for (int i = 0; i < unacknowledged.Count && packets > 0; i++)
        {
            SentPacket packet = unacknowledged[i];
            if (!packet.AckEliciting)
            {
                continue;
            }

            packets--;
            foreach (SentFrame frame in packet.Frames)
            {
                OnFrameLost(space, frame);
            }
        }
    }

    private void OnPacketsLost(PacketSpace space, IReadOnlyList<SentPacket> lost)
    {
        if (space.Id == SpaceId.Application && lost.Count > 0)
        {
            OnPathMtuPacketsLost(lost);
        }

        for (int i = 0; i < lost.Count; i++)
        {
            SentPacket packet = lost[i];
            _qlog?.PacketLost(_now, space.Id, packet.Number, "loss_detection");
            foreach (SentFrame frame in packet.Frames)
            {
                OnFrameLost(space, frame);
            }
        }
    }

    private void OnFrameAcknowledged(PacketSpace space, SentFrame frame)
    {
        switch (frame.Kind)
        {
            case SentFrameKind.Crypto:
                space.CryptoSend.OnAcked(frame.Offset, frame.Length, false);
                break;
            case SentFrameKind.Stream:
                if (_streams.TryGetValue(frame.Id, out StreamState? stream) && stream.Send is not null && stream.LocalResetCode is null)
                {
                    stream.Send.OnAcked(frame.Offset, frame.Length, frame.Fin);
                    ReleaseIfDone(stream);
                }

                break;
            case SentFrameKind.Datagram:
                OnDatagramOutcome(frame, acknowledged: true);
                break;
            case SentFrameKind.RetireConnectionId:
                _connectionIds.OnRetirementAcknowledged();
                break;
            case SentFrameKind.ResetStream:
                if (_streams.TryGetValue(frame.Id, out StreamState? reset))
                {
                    reset.ResetAcknowledged = true;
                    ReleaseIfDone(reset);
                }

                break;
        }
    }

    /// <summary>Repairs what a lost packet carried (RFC 9000 section 13.3): data again, limits and control frames with current values.</summary>
    private void OnFrameLost(PacketSpace space, SentFrame frame)
    {
        StreamState? stream = null;
        if (frame.Kind is SentFrameKind.Stream or SentFrameKind.ResetStream or SentFrameKind.StopSending or SentFrameKind.MaxStreamData)
        {
            _streams.TryGetValue(frame.Id, out stream);
        }

        switch (frame.Kind)
        {
            case SentFrameKind.Crypto:
                if (!space.Discarded)
                {
                    space.CryptoSend.OnLost(frame.Offset, frame.Length, false);
                }

                break;
            case SentFrameKind.Stream when stream?.Send is not null && stream.LocalResetCode is null:
                stream.Send.OnLost(frame.Offset, frame.Length, frame.Fin);
                break;
            case SentFrameKind.ResetStream when stream is not null && !stream.ResetAcknowledged:
                stream.ResetPending = true;
                break;
            case SentFrameKind.StopSending when stream is not null && stream.Receive is { IsFinished: false } && stream.PeerResetCode is null:
                stream.StopSendingPending = true;
                break;
            case SentFrameKind.MaxStreamData when stream is not null && stream.Receive is { FinalSize: null }:
                stream.MaxStreamDataPending = true;
                break;
            case SentFrameKind.MaxData:
                _pending.MaxData = true;
                break;
            case SentFrameKind.MaxStreamsBidi:
                _pending.MaxStreamsBidirectional = true;
                break;
            case SentFrameKind.MaxStreamsUni:
                _pending.MaxStreamsUnidirectional = true;
                break;
            case SentFrameKind.HandshakeDone:
                _pending.HandshakeDone = true;
                break;
            case SentFrameKind.NewConnectionId:
                _connectionIds.OnNewConnectionIdLost(frame.Id);
                break;
            case SentFrameKind.RetireConnectionId:
                _connectionIds.OnRetirementLost(frame.Id);
                break;
            case SentFrameKind.Datagram:
                OnDatagramOutcome(frame, acknowledged: false); // never retransmitted (RFC 9221 section 5.2)
                break;
            case SentFrameKind.PathChallenge:
                OnPathChallengeLost();
                break;
        }
    }

    /// <summary>Where one packet sits in the datagram being built, until it is protected.</summary>
    private record struct PacketLayout(SpaceId Space, int Start, int LengthOffset, int PacketNumberOffset, int PacketNumberLength, int PayloadOffset, int PayloadLength, ulong PacketNumber, bool AckEliciting, bool MtuProbe = false)
    {
        public readonly int Length => PayloadOffset + PayloadLength + Crypto.PacketProtection.TagLength - Start;
    }
}
