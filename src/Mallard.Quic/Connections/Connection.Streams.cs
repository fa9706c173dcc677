using Mallard.Quic.Frames;
using Mallard.Quic.Packets;
using Mallard.Quic.Recovery;
using Mallard.Quic.Transport;

namespace Mallard.Quic.Connections;

/// <summary>
/// Streams and flow control (RFC 9000 sections 2-4 and 19.4-19.15): opening within MAX_STREAMS,
/// reading and writing, resets, connection and stream windows that grow when the application
/// reads faster than one window per two RTTs, and connection ID management (section 5.1).
/// </summary>
internal sealed partial class Connection
{
    /// <summary>How many connection IDs to keep issued to the peer at most (bounded by its active_connection_id_limit).</summary>
    private const int ConnectionIdsToIssue = 4;

    private readonly Dictionary<ulong, StreamState> _streams = [];
    private readonly Queue<ulong> _incomingStreams = new();
    private readonly StreamCounts _bidirectionalStreams;
    private readonly StreamCounts _unidirectionalStreams;
    private readonly ConnectionFlowControl _flowControl;

    /// <summary>The counts and limits of one kind of stream.</summary>
    private StreamCounts StreamsOf(bool bidirectional) => bidirectional ? _bidirectionalStreams : _unidirectionalStreams;

    /// <summary>Whether a stream of this kind can be opened now (the peer's MAX_STREAMS allows it).</summary>
    public bool CanOpenStream(bool bidirectional) =>
        PeerParameters is not null && ApplicationDataAllowed
        && StreamsOf(bidirectional).CanOpen;

    /// <summary>Opens a stream (RFC 9000 section 2.1); false when the peer's limit is reached.</summary>
    public bool TryOpenStream(bool bidirectional, out ulong streamId)
    {
        streamId = 0;
        if (!CanOpenStream(bidirectional))
        {
            return false;
        }

        ulong index = StreamsOf(bidirectional).Open();
        streamId = (index << 2) | (bidirectional ? 0UL : 2UL) | (IsServer ? 1UL : 0UL);
        ulong peerLimit = bidirectional ? PeerParameters!.InitialMaxStreamDataBidiRemote : PeerParameters!.InitialMaxStreamDataUni;
        _streams[streamId] = new StreamState(streamId, IsServer, peerLimit, _localParameters.InitialMaxStreamDataBidiLocal);
        return true;
    }

    /// <summary>The next stream the peer opened, if any.</summary>
    public bool TryAcceptStream(out ulong streamId) => _incomingStreams.TryDequeue(out streamId);

    /// <summary>A live stream, or null once it is finished and released.</summary>
    public StreamState? GetStream(ulong streamId) => _streams.GetValueOrDefault(streamId);

    /// <summary>Queues data (and the FIN) on a stream's sending half.</summary>
    public void WriteStream(ulong streamId, ReadOnlySpan<byte> data, bool fin)
    {
        if (!_streams.TryGetValue(streamId, out StreamState? stream) || !stream.CanSendData || stream.Send!.FinWritten)
        {
            throw new InvalidOperationException($"stream {streamId} cannot be written to");
        }

        stream.Send.Write(data);
        if (fin)
        {
            stream.Send.Finish();
        }
    }

    /// <summary>Reads in-order data; <paramref name="finished"/> is true once the FIN is read or the peer reset the stream.</summary>
    public int ReadStream(long now, ulong streamId, Span<byte> destination, out bool finished)
    {
        finished = true;
        if (!_streams.TryGetValue(streamId, out StreamState? stream) || stream.Receive is null)
        {
            return 0;
        }

        int read = stream.Receive.Read(destination);
        finished = stream.Receive.IsFinished || stream.PeerResetCode is not null;
        if (read > 0)
        {
            UpdateReceiveWindows(now, stream, (ulong)read);
        }

        ReleaseIfDone(stream);
        return read;
    }

    /// <summary>Abandons the sending half with RESET_STREAM (RFC 9000 section 3.1).</summary>
    public void ResetStream(ulong streamId, ulong errorCode)
    {
        if (_streams.TryGetValue(streamId, out StreamState? stream) && stream.Send is not null && stream.LocalResetCode is null && !stream.Send.IsComplete)
        {
            stream.LocalResetCode = errorCode;
            stream.ResetPending = true;
        }
    }

    /// <summary>Asks the peer to stop sending with STOP_SENDING (RFC 9000 section 3.5).</summary>
    public void StopSending(ulong streamId, ulong errorCode)
    {
        if (_streams.TryGetValue(streamId, out StreamState? stream) && stream.Receive is not null && stream.LocalStopCode is null && !stream.Receive.IsFinished)
        {
            stream.LocalStopCode = errorCode;
            // Once every octet up to the final size has arrived the peer has nothing left to stop
            // (RFC 9000 section 3.5): the unread rest is dropped here and no frame is sent — a peer
            // could otherwise take STOP_SENDING for a request it completed as a refusal of it.
            stream.StopSendingPending = !stream.Receive.IsAllReceived;
            ReleaseIfDone(stream);
        }
    }

    private void ProcessStreamFrame(long now, ref Frame frame)
    {
        switch (frame.Type)
        {
            case FrameType.MaxData:
                _flowControl.RaisePeerLimit(frame.Maximum);
                return;
            case FrameType.MaxStreamsBidi:
                _bidirectionalStreams.RaisePeerLimit(frame.Maximum);
                return;
            case FrameType.MaxStreamsUni:
                _unidirectionalStreams.RaisePeerLimit(frame.Maximum);
                return;
        }

        bool receiving = frame.Type is FrameType.Stream or FrameType.ResetStream or FrameType.StreamDataBlocked;
        StreamState? stream = StreamForFrame(now, frame.StreamId, receiving, frame.WireType);
        if (stream is null)
        {
            return;
        }

        switch (frame.Type)
        {
            case FrameType.Stream:
                OnStreamData(now, stream, ref frame);
                break;
            case FrameType.ResetStream:
                OnResetStream(now, stream, ref frame);
                break;
            case FrameType.StopSending:
                stream.PeerStopCode ??= frame.ErrorCode;
                ResetStream(stream.Id, frame.ErrorCode); // Answer with RESET_STREAM (section 3.5).
                break;
            case FrameType.MaxStreamData:
                stream.Send!.RaisePeerLimit(frame.Maximum);
                break;
            case FrameType.StreamDataBlocked:
                break;
        }
    }

    /// <summary>
    /// The stream a frame names, opening peer streams up to it (RFC 9000 section 3.2); null for a
    /// stream already finished. Frames for a direction the stream does not have, or a local stream
    /// not yet opened, are STREAM_STATE_ERROR; a peer stream beyond MAX_STREAMS is STREAM_LIMIT_ERROR.
    /// </summary>
    private StreamState? StreamForFrame(long now, ulong streamId, bool receiving, ulong frameType)
    {
        bool local = ((streamId & 1) == 1) == IsServer;
        bool bidirectional = (streamId & 2) == 0;
        if (!bidirectional && local == receiving)
        {
            Fail(now, TransportErrorCode.StreamStateError, $"stream {streamId} has no {(receiving ? "receiving" : "sending")} part here", frameType);
            return null;
        }

        if (_streams.TryGetValue(streamId, out StreamState? existing))
        {
            return existing;
        }

        ulong index = streamId >> 2;
        StreamCounts counts = StreamsOf(bidirectional);
        if (local)
        {
            if (index >= counts.OpenedLocally)
            {
                Fail(now, TransportErrorCode.StreamStateError, $"stream {streamId} was never opened", frameType);
            }

            return null;
        }

        if (index >= counts.LocalLimit)
        {
            Fail(now, TransportErrorCode.StreamLimitError, $"stream {streamId} is beyond the advertised MAX_STREAMS", frameType);
            return null;
        }

        if (index < counts.OpenedByPeer)
        {
            return null; // Finished and released already.
        }

        ulong peerLimit = PeerParameters is { } peer ? (bidirectional ? peer.InitialMaxStreamDataBidiLocal : 0) : 0;
        ulong window = bidirectional ? _localParameters.InitialMaxStreamDataBidiRemote : _localParameters.InitialMaxStreamDataUni;
        StreamState? stream = null;
        for (; counts.OpenedByPeer <= index; counts.OpenedByPeer++)
        {
            ulong id = (counts.OpenedByPeer << 2) | (streamId & 3);
            stream = new StreamState(id, IsServer, peerLimit, window);
            _streams[id] = stream;
            _incomingStreams.Enqueue(id);
        }

        return stream;
    }

    private void OnStreamData(long now, StreamState stream, ref Frame frame)
    {
        if (stream.PeerResetCode is not null || stream.Receive is null)
        {
            return;
        }

        ulong before = stream.Receive.HighestReceived;
        TransportErrorCode error = stream.Receive.Receive(frame.Offset, frame.Data, frame.Fin);
        if (error != TransportErrorCode.NoError)
        {
            Fail(now, error, $"stream {stream.Id}: {error}", frame.WireType);
            return;
        }

        CountReceived(now, stream.Receive.HighestReceived - before, frame.WireType);
    }

    private void OnResetStream(long now, StreamState stream, ref Frame frame)
    {
        if (stream.Receive is null)
        {
            return;
        }

        ulong before = stream.Receive.HighestReceived;
        TransportErrorCode error = stream.Receive.Receive(frame.FinalSize, default, fin: true);
        if (error != TransportErrorCode.NoError)
        {
            Fail(now, error, $"stream {stream.Id}: RESET_STREAM final size", frame.WireType);
            return;
        }

        stream.PeerResetCode ??= frame.ErrorCode;
        CountReceived(now, stream.Receive.HighestReceived - before, frame.WireType);
        ReleaseIfDone(stream);
    }

    /// <summary>Connection-level flow control on what arrives (RFC 9000 section 4.1).</summary>
    private void CountReceived(long now, ulong newOctets, ulong frameType)
    {
        if (!_flowControl.OnReceived(newOctets))
        {
            Fail(now, TransportErrorCode.FlowControlError, "the peer sent more than MAX_DATA allows", frameType);
        }
    }

    /// <summary>
    /// Moves the stream and connection windows as the application reads: a new limit once half the
    /// window is consumed, and a doubled window when that happens within two round trips
    /// (auto-tuning). Two *minimum* round trips: the smoothed one grows with every packet queued in
    /// front of this receiver, so a loss-based sender that outran it made the window, and with it
    /// the queue, grow to 16 MiB — megabytes of standing queue in front of every datagram
    /// (BENCHMARKS.md: a 400 MB download on loopback held 2-5 MB in the socket and a datagram's
    /// round trip was 11.7 ms; with the minimum, under 0.6 MB and 1.7 ms).
    /// </summary>
    private void UpdateReceiveWindows(long now, StreamState stream, ulong read)
    {
        long twoRtts = 2 * (_rtt.MinRtt > 0 ? _rtt.MinRtt : _rtt.SmoothedRtt);
        Streams.ReassemblyBuffer receive = stream.Receive!;
        if (receive.FinalSize is null && receive.Limit - receive.ReadOffset < stream.ReceiveWindow / 2)
        {
            if (now - stream.LastWindowUpdate < twoRtts)
            {
                stream.ReceiveWindow = Math.Min(stream.ReceiveWindow * 2, _options.MaxReceiveWindow);
            }

            stream.LastWindowUpdate = now;
            receive.RaiseLimit(receive.ReadOffset + stream.ReceiveWindow);
            stream.MaxStreamDataPending = true;
        }

        // The connection's window may reach one and a half streams' worth, so that one stream at
        // its largest window never blocks on the connection's.
        if (_flowControl.OnRead(read, now, twoRtts, _options.MaxReceiveWindow * 3 / 2))
        {
            _pending.MaxData = true;
        }
    }

    /// <summary>Forgets a stream whose both halves are done; a peer stream frees a slot under MAX_STREAMS (section 4.6).</summary>
    private void ReleaseIfDone(StreamState stream)
    {
        if (!stream.SendDone || !stream.ReceiveDone || stream.ResetPending || stream.StopSendingPending || !_streams.Remove(stream.Id))
        {
            return;
        }

        stream.Receive?.Discard(); // its pages go back to the pool

        if (!stream.IsLocal)
        {
            StreamsOf(stream.IsBidirectional).GrantOneMore();
            if (stream.IsBidirectional)
            {
                _pending.MaxStreamsBidirectional = true;
            }
            else
            {
                _pending.MaxStreamsUnidirectional = true;
            }
        }
    }

    private bool HasStreamFramesToSend()
    {
        foreach (StreamState stream in _streams.Values)
        {
            if (stream.ResetPending || stream.StopSendingPending || stream.MaxStreamDataPending
                || (stream.CanSendData && stream.Send!.HasDataToSend && (stream.Send.HasLostData || _flowControl.Credit > 0 || stream.Send.SentEnd == stream.Send.WrittenEnd)))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>1-RTT control frames, then stream data (RFC 9000 section 13).</summary>
    private void WriteApplicationFrames(long now, ref FrameWriter writer, List<SentFrame> frames)
    {
        if (_pending.HandshakeDone && writer.HandshakeDone())
        {
            _pending.HandshakeDone = false;
            frames.Add(new SentFrame(SentFrameKind.HandshakeDone));
        }

        WritePathChallenge(ref writer, frames);
        if (_pending.Ping && writer.Ping())
        {
            _pending.Ping = false;
            frames.Add(new SentFrame(SentFrameKind.Ping));
        }

        for (int i = _pending.PathResponses.Count - 1; i >= 0 && writer.Remaining > 9; i--)
        {
            writer.PathResponse(_pending.PathResponses[i]);
            _pending.PathResponses.RemoveAt(i);
            frames.Add(new SentFrame(SentFrameKind.PathResponse));
        }

        if (_pending.NewToken is byte[] token && writer.NewToken(token))
        {
            _pending.NewToken = null;
            frames.Add(new SentFrame(SentFrameKind.NewToken));
        }

        if (_pending.MaxData && writer.MaxData(_flowControl.LocalLimit))
        {
            _pending.MaxData = false;
            frames.Add(new SentFrame(SentFrameKind.MaxData));
        }

        if (_pending.MaxStreamsBidirectional && writer.MaxStreams(true, _bidirectionalStreams.LocalLimit))
        {
            _pending.MaxStreamsBidirectional = false;
            frames.Add(new SentFrame(SentFrameKind.MaxStreamsBidi));
        }

        if (_pending.MaxStreamsUnidirectional && writer.MaxStreams(false, _unidirectionalStreams.LocalLimit))
        {
            _pending.MaxStreamsUnidirectional = false;
            frames.Add(new SentFrame(SentFrameKind.MaxStreamsUni));
        }

        _connectionIds.WriteFrames(ref writer, frames);

        foreach (StreamState stream in _streams.Values)
        {
            if (stream.ResetPending && writer.ResetStream(stream.Id, stream.LocalResetCode!.Value, stream.Send!.SentEnd))
            {
                stream.ResetPending = false;
                frames.Add(new SentFrame(SentFrameKind.ResetStream, stream.Id));
            }

            if (stream.StopSendingPending && writer.StopSending(stream.Id, stream.LocalStopCode!.Value))
            {
                stream.StopSendingPending = false;
                frames.Add(new SentFrame(SentFrameKind.StopSending, stream.Id));
            }

            if (stream.MaxStreamDataPending && writer.MaxStreamData(stream.Id, stream.Receive!.Limit))
            {
                stream.MaxStreamDataPending = false;
                frames.Add(new SentFrame(SentFrameKind.MaxStreamData, stream.Id));
            }
        }

        WriteStreamDataAndDatagrams(ref writer, frames);
    }

    private void WriteStreamData(ref FrameWriter writer, List<SentFrame> frames)
    {
        List<StreamState>? released = null;
        foreach (StreamState stream in _streams.Values)
        {
            if (writer.Remaining < 24)
            {
                break;
            }

            while (stream.CanSendData && stream.Send!.HasDataToSend && writer.Remaining >= 24)
            {
                Streams.SendBuffer send = stream.Send;
                int overhead = 1 + VariableLengthInteger.EncodedLength(stream.Id) + VariableLengthInteger.EncodedLength(send.WrittenEnd) + VariableLengthInteger.EncodedLength((ulong)writer.Remaining);
                int room = writer.Remaining - overhead;
                ulong credit = _flowControl.Credit;
                if (!send.HasLostData && send.SentEnd < send.WrittenEnd)
                {
                    if (credit == 0)
                    {
                        if (_flowControl.DataBlockedDue && writer.DataBlocked(_flowControl.PeerLimit))
                        {
                            _flowControl.OnDataBlockedSent();
                            frames.Add(new SentFrame(SentFrameKind.DataBlocked));
                        }

                        break;
                    }

                    room = (int)Math.Min((ulong)room, credit);
                }

                ulong sentBefore = send.SentEnd;
                if (room <= 0 || !send.TryNext(room, Chunk, out ulong offset, out int length, out bool fin))
                {
                    break;
                }

                writer.Stream(stream.Id, offset, Chunk.AsSpan(0, length), fin);
                _flowControl.OnSent(send.SentEnd - sentBefore);
                frames.Add(new SentFrame(SentFrameKind.Stream, stream.Id, offset, length, fin));
            }

            if (stream.SendDone && stream.ReceiveDone)
            {
                (released ??= []).Add(stream);
            }
        }

        released?.ForEach(ReleaseIfDone);
    }

    /// <summary>Keeps up to four connection IDs issued to the peer, within its active_connection_id_limit (RFC 9000 section 5.1.1).</summary>
    private void IssueConnectionIds()
    {
        if (_options.ConnectionIds.ConnectionIdLength == 0)
        {
            return;
        }

        int limit = (int)Math.Min((ulong)ConnectionIdsToIssue, PeerParameters?.ActiveConnectionIdLimit ?? 2);
        _connectionIds.Issue(limit, _options.ConnectionIds.NewConnectionId, _options.ResetTokenFor, ConnectionIdIssued);
    }

    private void OnNewConnectionId(long now, ref Frame frame)
    {
        if (_connectionIds.OnNewConnectionId(frame.SequenceNumber, frame.RetirePriorTo, frame.ConnectionId, frame.StatelessResetToken) is var (code, reason))
        {
            Fail(now, code, reason, frame.WireType);
        }
    }

    private void OnRetireConnectionId(long now, ref Frame frame)
    {
        if (_connectionIds.OnRetireConnectionId(frame.SequenceNumber, out byte[]? retired) is var (code, reason))
        {
            Fail(now, code, reason, frame.WireType);
            return;
        }

        if (retired is not null)
        {
            ConnectionIdRetired?.Invoke(retired);
            if (State == ConnectionState.Established)
            {
                IssueConnectionIds();
            }
        }
    }
}
