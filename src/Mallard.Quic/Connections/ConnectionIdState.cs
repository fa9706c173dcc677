using System.Security.Cryptography;
using Mallard.Quic.Frames;
using Mallard.Quic.Recovery;
using Mallard.Quic.Transport;

namespace Mallard.Quic.Connections;

/// <summary>
/// Both sides' connection IDs for one connection (RFC 9000 section 5.1): the IDs this endpoint
/// issued (NEW_CONNECTION_ID, with their stateless reset tokens) and retires on request, the IDs
/// the peer issued, the one in use as destination, and the retirements owed to the peer. Every
/// list is bounded: the peer's by active_connection_id_limit, the retirements owed by twice that
/// (at least 16), so a peer flooding NEW_CONNECTION_ID cannot make it grow. The connection turns
/// the errors it returns into CONNECTION_CLOSE.
/// </summary>
internal sealed class ConnectionIdState
{
    private readonly List<LocalConnectionId> _local = [];
    private readonly List<PeerConnectionId> _peer = [];
    private readonly List<ulong> _toRetire = [];
    private readonly ulong _activeLimit;
    private ulong _nextLocalSequence;
    private ulong _peerRetirePriorTo;
    private int _retirementsInFlight;

    /// <param name="localId">The ID this endpoint chose for its first packets (sequence 0).</param>
    /// <param name="localResetToken">Its stateless reset token.</param>
    /// <param name="peerId">The destination of the first packets: the server's ID as the client chose it, or the client's.</param>
    /// <param name="activeLimit">This endpoint's active_connection_id_limit: how many of the peer's IDs it keeps.</param>
    public ConnectionIdState(byte[] localId, byte[] localResetToken, byte[] peerId, ulong activeLimit)
    {
        FirstLocalId = localId;
        FirstLocalResetToken = localResetToken;
        _local.Add(new LocalConnectionId(_nextLocalSequence++, localId, localResetToken));
        _peer.Add(new PeerConnectionId(0, peerId, null));
        PeerCurrent = peerId;
        _activeLimit = activeLimit;
    }

    /// <summary>The peer's ID this endpoint sends to now.</summary>
    public byte[] PeerCurrent { get; private set; }

    /// <summary>The first ID this endpoint chose: the source of its long-header packets and its initial_source_connection_id.</summary>
    public byte[] FirstLocalId { get; }

    /// <summary>The stateless reset token of <see cref="FirstLocalId"/> (a server sends it as a transport parameter).</summary>
    public byte[] FirstLocalResetToken { get; }

    /// <summary>This endpoint's IDs remembered: only those not retired, so a peer that retires every ID it gets cannot grow the list.</summary>
    public int LocalRemembered => _local.Count;

    /// <summary>The peer's first ID (sequence 0), which its initial_source_connection_id must match.</summary>
    public byte[] FirstPeerId => _peer[0].Id;

    /// <summary>This endpoint's IDs not yet retired: the ones packets may arrive on.</summary>
    public IEnumerable<byte[]> ActiveLocalIds => _local.Select(c => c.Id);

    /// <summary>Sequence numbers of the peer's IDs waiting for a RETIRE_CONNECTION_ID.</summary>
    public IReadOnlyList<ulong> ToRetire => _toRetire;

    /// <summary>Whether NEW_CONNECTION_ID or RETIRE_CONNECTION_ID frames wait to be sent.</summary>
    public bool HasFramesToSend => _toRetire.Count > 0 || _local.Exists(c => !c.Announced && c.Sequence > 0);

    /// <summary>Retirements owed at most, sent or not (RFC 9000 section 5.1.2: at least twice the limit must fit).</summary>
    private int MaxRetirementsOutstanding => (int)Math.Min(1024, Math.Max(16, 2 * _activeLimit));

    /// <summary>Client: the server chose its own ID (the Source Connection ID of its first Initial or of a Retry, RFC 9000 section 7.2).</summary>
    public void ReplaceFirstPeerId(byte[] id)
    {
        _peer[0] = new PeerConnectionId(0, id, null);
        PeerCurrent = id;
    }

    /// <summary>Client: the server's stateless_reset_token transport parameter belongs to its first ID.</summary>
    public void SetFirstPeerResetToken(byte[] token) => _peer[0] = _peer[0] with { ResetToken = token };

    /// <summary>Whether <paramref name="tail"/> is a stateless reset token of one of the peer's IDs (RFC 9000 section 10.3.1).</summary>
    public bool IsPeerResetToken(ReadOnlySpan<byte> tail)
    {
        foreach (PeerConnectionId peer in _peer)
        {
            if (peer.ResetToken is byte[] token && CryptographicOperations.FixedTimeEquals(tail, token))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Issues new IDs until <paramref name="limit"/> are active (RFC 9000 section 5.1.1); <paramref name="issued"/> learns each.</summary>
    public void Issue(int limit, Func<byte[]> newId, Func<byte[], byte[]> resetTokenFor, Action<byte[]>? issued)
    {
        while (_local.Count < limit)
        {
            byte[] id = newId();
            _local.Add(new LocalConnectionId(_nextLocalSequence++, id, resetTokenFor(id)));
            issued?.Invoke(id);
        }
    }

    /// <summary>NEW_CONNECTION_ID (RFC 9000 section 19.15); returns the error that closes the connection, or null.</summary>
    public (TransportErrorCode Code, string Reason)? OnNewConnectionId(ulong sequence, ulong retirePriorTo, ReadOnlySpan<byte> id, ReadOnlySpan<byte> resetToken)
    {
        if (PeerCurrent.Length == 0)
        {
            return (TransportErrorCode.ProtocolViolation, "NEW_CONNECTION_ID from a peer using zero-length connection IDs");
        }

        PeerConnectionId? known = _peer.Find(c => c.Sequence == sequence);
        if (known is not null)
        {
            return known.Id.AsSpan().SequenceEqual(id) ? null : (TransportErrorCode.ProtocolViolation, "NEW_CONNECTION_ID reuses a sequence number for another ID");
        }

        if (sequence >= _peerRetirePriorTo)
        {
            _peer.Add(new PeerConnectionId(sequence, id.ToArray(), resetToken.ToArray()));
        }
        else if (QueueRetirement(sequence) is { } error)
        {
            return error;
        }

        if (retirePriorTo > _peerRetirePriorTo)
        {
            _peerRetirePriorTo = retirePriorTo;
            foreach (PeerConnectionId old in _peer.Where(c => c.Sequence < _peerRetirePriorTo).ToList())
            {
                _peer.Remove(old);
                if (QueueRetirement(old.Sequence) is { } error)
                {
                    return error;
                }
            }

            if (_peer.Count > 0 && !_peer.Exists(c => c.Id.AsSpan().SequenceEqual(PeerCurrent)))
            {
                PeerCurrent = _peer.MinBy(c => c.Sequence)!.Id;
            }
        }

        return (ulong)_peer.Count > _activeLimit
            ? (TransportErrorCode.ConnectionIdLimitError, "more connection IDs than active_connection_id_limit")
            : null;
    }

    /// <summary>
    /// RETIRE_CONNECTION_ID (RFC 9000 section 19.16): <paramref name="retired"/> is the ID no longer
    /// to route on, or null when it was retired already. Returns the error that closes the connection, or null.
    /// </summary>
    public (TransportErrorCode Code, string Reason)? OnRetireConnectionId(ulong sequence, out byte[]? retired)
    {
        retired = null;
        if (sequence >= _nextLocalSequence)
        {
            return (TransportErrorCode.ProtocolViolation, "RETIRE_CONNECTION_ID for a sequence number never issued");
        }

        LocalConnectionId? issued = _local.Find(c => c.Sequence == sequence);
        if (issued is null)
        {
            return null; // retired already
        }

        _local.Remove(issued);
        retired = issued.Id;
        return null;
    }

    /// <summary>Client: whether the peer issued an ID not in use, to move to a new path with (RFC 9000 section 9.5).</summary>
    public bool HasSpareId => _peer.Exists(c => !c.Id.AsSpan().SequenceEqual(PeerCurrent));

    /// <summary>Client: moves to the spare ID with the lowest sequence number and retires the old one.</summary>
    public void MoveToSpareId()
    {
        PeerConnectionId? current = _peer.Find(c => c.Id.AsSpan().SequenceEqual(PeerCurrent));
        PeerConnectionId next = _peer.Where(c => c != current).MinBy(c => c.Sequence)
            ?? throw new InvalidOperationException("the server has issued no spare connection ID to move with");
        if (current is not null)
        {
            _peer.Remove(current);
            _toRetire.Add(current.Sequence);
        }

        PeerCurrent = next.Id;
    }

    /// <summary>NEW_CONNECTION_ID for every ID not yet announced, then the retirements owed, as far as the packet has room.</summary>
    public void WriteFrames(ref FrameWriter writer, List<SentFrame> frames)
    {
        foreach (LocalConnectionId issued in _local)
        {
            if (!issued.Announced && issued.Sequence > 0 && writer.NewConnectionId(issued.Sequence, 0, issued.Id, issued.ResetToken))
            {
                issued.Announced = true;
                frames.Add(new SentFrame(SentFrameKind.NewConnectionId, issued.Sequence));
            }
        }

        while (_toRetire.Count > 0 && writer.RetireConnectionId(_toRetire[^1]))
        {
            frames.Add(new SentFrame(SentFrameKind.RetireConnectionId, _toRetire[^1]));
            _toRetire.RemoveAt(_toRetire.Count - 1);
            _retirementsInFlight++;
        }
    }

    /// <summary>A NEW_CONNECTION_ID was lost: announce the ID again unless it has been retired since.</summary>
    public void OnNewConnectionIdLost(ulong sequence)
    {
        LocalConnectionId? issued = _local.Find(c => c.Sequence == sequence);
        if (issued is not null)
        {
            issued.Announced = false; // unless retired since (then forgotten)
        }
    }

    public void OnRetirementAcknowledged() => _retirementsInFlight--;

    /// <summary>A RETIRE_CONNECTION_ID was lost: it is owed again.</summary>
    public void OnRetirementLost(ulong sequence)
    {
        _retirementsInFlight--;
        if (!_toRetire.Contains(sequence))
        {
            _toRetire.Add(sequence);
        }
    }

    /// <summary>
    /// Queues a RETIRE_CONNECTION_ID once per sequence number. Retirements owed are bounded, so a
    /// peer that floods NEW_CONNECTION_ID frames below retire_prior_to cannot grow the queue (the
    /// pattern of quic-go's CVE-2024-22189); beyond the bound it is CONNECTION_ID_LIMIT_ERROR.
    /// </summary>
    private (TransportErrorCode Code, string Reason)? QueueRetirement(ulong sequence)
    {
        if (_toRetire.Contains(sequence))
        {
            return null;
        }

        if (_toRetire.Count + _retirementsInFlight >= MaxRetirementsOutstanding)
        {
            return (TransportErrorCode.ConnectionIdLimitError, $"more than {MaxRetirementsOutstanding} connection IDs wait to be retired");
        }

        _toRetire.Add(sequence);
        return null;
    }

    /// <summary>An ID this endpoint issued and the peer has not retired.</summary>
    private sealed record LocalConnectionId(ulong Sequence, byte[] Id, byte[] ResetToken)
    {
        public bool Announced { get; set; }
    }

    /// <summary>An ID the peer issued, with its stateless reset token once known.</summary>
    private sealed record PeerConnectionId(ulong Sequence, byte[] Id, byte[]? ResetToken);
}
