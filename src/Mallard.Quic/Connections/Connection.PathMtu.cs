using Mallard.Quic.Frames;
using Mallard.Quic.Recovery;

namespace Mallard.Quic.Connections;

/// <summary>
/// Path MTU discovery's part in the connection (RFC 9000 section 14.3, RFC 8899): probes sent
/// when <see cref="PathMtuDiscovery"/> asks, their acknowledgement or loss reported back, and the
/// losses that reveal a black hole. The discovered size bounds every later datagram and DATAGRAM frame.
/// </summary>
internal sealed partial class Connection
{
    /// <summary>The largest UDP payload the current path is known to carry.</summary>
    public int PathMtu => _pathMtu.Current;

    /// <summary>Whether path MTU discovery has finished its search on the current path.</summary>
    public bool PathMtuSearchComplete => _pathMtu.SearchComplete;

    /// <summary>Times large packets stopped getting through and the datagram size fell back to 1200.</summary>
    public int PathMtuBlackHoles => _pathMtu.BlackHoles;

    /// <summary>
    /// Sends the probe path MTU discovery wants, if any and if the window and pacer let it go: one
    /// 1-RTT packet of exactly the probe's size, with an ACK when one is pending, a PING and
    /// PADDING, so that losing it loses no data (RFC 9000 section 14.4). Returns its length or 0.
    /// </summary>
    private int TrySendPathMtuProbe(long now, Span<byte> datagram)
    {
        PacketSpace space = ApplicationSpace;
        // Every Send passes here: the usual answer (no search under way) comes first and cheapest.
        if (!HandshakeConfirmed || _pathMtu.ProbeDue(now) is not int size || !space.CanSend || !_amplification.AddressValidated
            || _pathValidation.Pending || !_pacingOpen || size > datagram.Length || !_congestion.CanSend(size)
            || Array.Exists(_spaces, s => s.ProbesWanted > 0))
        {
            return 0;
        }

        Span<byte> buffer = datagram[..size];
        ulong packetNumber = space.NextPacketNumber;
        int packetNumberLength = PacketNumberLength(packetNumber, space.Loss.LargestAcknowledged);
        int position = WriteShortHeader(buffer, packetNumberLength);
        int packetNumberOffset = position;
        position += WritePacketNumber(buffer[position..], packetNumber, packetNumberLength);
        var writer = new FrameWriter(buffer[position..^Crypto.PacketProtection.TagLength]);
        List<SentFrame> frames = _framesInPacket[(int)SpaceId.Application];
        frames.Clear();
        if (space.AckPending)
        {
            WriteAck(now, space, ref writer, frames);
        }

        writer.Ping();
        frames.Add(new SentFrame(SentFrameKind.Ping));
        writer.Padding(writer.Remaining);
        space.NextPacketNumber++;
        _pathMtu.OnProbeSent(packetNumber);
        _timers[TimerKind.Pacing] = null;
        Seal(now, datagram, new PacketLayout(SpaceId.Application, 0, -1, packetNumberOffset, packetNumberLength, position, writer.Length, packetNumber, AckEliciting: true, MtuProbe: true));
        _amplification.OnSent(size);

        // A small ack-eliciting packet right behind the probe: its acknowledgement reveals a lost
        // probe by the time threshold within about an RTT (RFC 9002 section 6.1.2). A receiver of
        // a download sends nothing else ack-eliciting, and would wait for a PTO per lost probe.
        _pending.Ping = true;
        SetLossDetectionTimer(now);
        return size;
    }

    /// <summary>An acknowledged 1-RTT packet: a probe raises the size; any other large one shows large packets still pass.</summary>
    private void OnPathMtuPacketAcknowledged(long now, SentPacket packet)
    {
        if (packet.MtuProbe)
        {
            int before = _pathMtu.Current;
            _pathMtu.OnProbeAcknowledged(packet.Number, now);
            OnPathMtuChanged(before);
        }
        else if (packet.Size > PathMtuDiscovery.BasePlpmtu)
        {
            _pathMtu.OnLargePacketAcknowledged();
        }
    }

    /// <summary>
    /// 1-RTT packets declared lost together: a lost probe counts against its size; a burst of large
    /// packets with no small one among them is what a narrowed path looks like (RFC 8899 section 4.3).
    /// </summary>
    private void OnPathMtuPacketsLost(IReadOnlyList<SentPacket> lost)
    {
        bool large = false;
        bool small = false;
        for (int i = 0; i < lost.Count; i++)
        {
            SentPacket packet = lost[i];
            if (packet.MtuProbe)
            {
                _pathMtu.OnProbeLost(packet.Number, _now);
            }
            else if (packet.AckEliciting)
            {
                large |= packet.Size > PathMtuDiscovery.BasePlpmtu;
                small |= packet.Size <= PathMtuDiscovery.BasePlpmtu;
            }
        }

        if (large && !small)
        {
            OnSuspiciousPathMtuLoss();
        }
    }

    /// <summary>
    /// The PTO fired: when large 1-RTT packets (not probes) are among those unacknowledged, nothing
    /// may be getting through because of their size, and no loss will ever be declared to say so.
    /// </summary>
    private void OnPathMtuProbeTimeout()
    {
        IReadOnlyList<SentPacket> unacknowledged = ApplicationSpace.Loss.Unacknowledged;
        for (int i = 0; i < unacknowledged.Count; i++)
        {
            SentPacket packet = unacknowledged[i];
            if (packet.AckEliciting && !packet.MtuProbe && packet.Size > PathMtuDiscovery.BasePlpmtu)
            {
                OnSuspiciousPathMtuLoss();
                return;
            }
        }
    }

    private void OnSuspiciousPathMtuLoss()
    {
        int before = _pathMtu.Current;
        if (_pathMtu.OnSuspiciousLoss(_now))
        {
            OnPathMtuChanged(before);
        }
    }

    /// <summary>A new path: its MTU is unknown until probed (RFC 9000 section 14.3).</summary>
    private void ResetPathMtu(long now)
    {
        int before = _pathMtu.Current;
        _pathMtu.Reset(now);
        OnPathMtuChanged(before);
    }

    /// <summary>The congestion controller counts in the new size (RFC 9002 section 7.2: max_datagram_size follows the path), and qlog says so.</summary>
    private void OnPathMtuChanged(int before)
    {
        if (_pathMtu.Current == before)
        {
            return;
        }

        _congestion.MaxDatagramSize = _pathMtu.Current;
        _qlog?.MtuUpdated(_now, before, _pathMtu.Current, _pathMtu.SearchComplete);
    }
}
