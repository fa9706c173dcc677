using System.Net;
using System.Net.Sockets;
using Mallard.Quic.Frames;
using Mallard.Quic.Recovery;

namespace Mallard.Quic.Connections;

/// <summary>
/// A server following its client to a new address (RFC 9000 section 9): a NAT rebinding or a
/// client that moved. The newest non-probing packet from a new address moves the path there;
/// until the client proves it owns the address with a PATH_RESPONSE (section 8.2), at most three
/// times what arrived from it is sent there, and if validation fails the path goes back to the
/// last validated address (section 9.3.2). A packet that is not the newest never moves the path,
/// so a replayed or delayed one from a spoofed address cannot redirect the connection.
/// </summary>
internal sealed partial class Connection
{
    private readonly PathValidation _pathValidation = new();
    private SocketAddress? _receivedFrom;
    private bool _pathChallengeInDatagram;

    /// <summary>Times the peer's address changed and the connection followed it.</summary>
    public int PathMigrations { get; private set; }

    /// <summary>New peer addresses confirmed with PATH_CHALLENGE and PATH_RESPONSE.</summary>
    public int PathValidations => _pathValidation.Validations;

    /// <summary>Whether the current peer address still awaits its PATH_RESPONSE.</summary>
    public bool PathValidationPending => _pathValidation.Pending;

    /// <summary>
    /// After a packet is processed: a server moves to the address of the newest packet when it is
    /// not the current one and the packet carried more than probing frames (section 9.2).
    /// </summary>
    private void ConsiderPeerAddress(long now, SpaceId spaceId, ulong packetNumber, bool probingOnly)
    {
        if (_receivedFrom is not SocketAddress from || !IsServer || spaceId != SpaceId.Application || !HandshakeConfirmed
            || State != ConnectionState.Established || from.Equals(Remote))
        {
            return;
        }

        // Only the packet with the largest number so far moves the path (section 9.3).
        if (probingOnly || ApplicationSpace.Received.Largest != packetNumber)
        {
            return;
        }

        _pathValidation.RememberIfFirst(Remote);
        SocketAddress previous = Remote;
        Remote = Endpoint.Copy(from);
        PathMigrations++;
        if (Remote.Equals(_pathValidation.Validated))
        {
            // Back to the address that was validated last: nothing to prove (section 9.3.3).
            _amplification.Validate();
            _pathValidation.Stop();
            _pending.PathChallenge = false;
            _timers[TimerKind.PathValidation] = null;
            return;
        }

        _pathValidation.Start();
        _pending.PathChallenge = true;
        _amplification.StartOver();

        // max(3 PTO, 6 kInitialRtt) with the larger of the two paths' estimates (section 8.2.4).
        _timers[TimerKind.PathValidation] = now + Math.Max(3 * _rtt.ProbeTimeout(PeerMaxAckDelay), 6 * RttEstimator.InitialRtt);
        if (!SameHost(previous, Remote))
        {
            // A new host, not just a new port: the old path's window and RTT say nothing about it (section 9.4).
            ResetPathMtu(now);
            _congestion.ResetForNewPath();
            _pacer.Reset(_congestion.CongestionWindow);
            _rtt.Reset();
        }
    }

    /// <summary>Times this client moved to a new local address (<see cref="MigrateToNewPath"/>).</summary>
    public int LocalMigrations { get; private set; }

    /// <summary>Why this connection cannot move to a new local address now, or null when it can.</summary>
    public string? MigrationRefusal()
    {
        if (IsServer)
        {
            return "only a client moves to a new address";
        }

        if (!HandshakeConfirmed || State != ConnectionState.Established)
        {
            return "the handshake is not confirmed yet (RFC 9000 section 9)";
        }

        if (PeerParameters?.DisableActiveMigration == true)
        {
            return "the server disabled active migration (disable_active_migration)";
        }

        return _connectionIds.HasSpareId ? null : "the server has issued no spare connection ID to move with";
    }

    /// <summary>
    /// Client: the host now sends from a new local address (RFC 9000 section 9.2). Packets on the
    /// new path use a connection ID the server issued and never saw on the old one, and the old
    /// one is retired, so an observer cannot link the two paths (section 9.5). A PATH_CHALLENGE
    /// checks that the server is reachable there, and a PING makes the first packet non-probing so
    /// that the server moves to the new address at once. Call only when <see cref="MigrationRefusal"/> is null.
    /// </summary>
    public void MigrateToNewPath(long now)
    {
        _connectionIds.MoveToSpareId();
        _pathValidation.Start();
        _pending.PathChallenge = true;
        _timers[TimerKind.PathValidation] = now + Math.Max(3 * _rtt.ProbeTimeout(PeerMaxAckDelay), 6 * RttEstimator.InitialRtt);
        _pending.Ping = true;
        ResetPathMtu(now); // a new local address may be a new network
        LocalMigrations++;
    }

    private void OnPathResponse(ReadOnlySpan<byte> data)
    {
        if (_pathValidation.TryComplete(data, Remote))
        {
            _amplification.Validate();
            _pending.PathChallenge = false;
            _timers[TimerKind.PathValidation] = null;
        }
    }

    /// <summary>The new address never answered: back to the last validated one (section 9.3.2).</summary>
    private void OnPathValidationTimeout()
    {
        _timers[TimerKind.PathValidation] = null;
        _pathValidation.Stop();
        _pending.PathChallenge = false;
        if (_pathValidation.Validated is SocketAddress validated)
        {
            Remote = validated;
            _amplification.Validate();
        }
    }

    private void WritePathChallenge(ref FrameWriter writer, List<SentFrame> frames)
    {
        if (_pending.PathChallenge && _pathValidation.Challenge is byte[] challenge && writer.PathChallenge(challenge))
        {
            _pending.PathChallenge = false;
            _pathChallengeInDatagram = true;
            frames.Add(new SentFrame(SentFrameKind.PathChallenge));
        }
    }

    private void OnPathChallengeLost()
    {
        if (_pathValidation.Pending)
        {
            _pending.PathChallenge = true;
        }
    }

    private static bool SameHost(SocketAddress a, SocketAddress b)
    {
        IPEndPoint template = a.Family == AddressFamily.InterNetworkV6 ? new IPEndPoint(IPAddress.IPv6Any, 0) : new IPEndPoint(IPAddress.Any, 0);
        return a.Family == b.Family && ((IPEndPoint)template.Create(a)).Address.Equals(((IPEndPoint)template.Create(b)).Address);
    }
}
