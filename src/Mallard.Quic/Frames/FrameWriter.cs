using Mallard.Quic.Packets;

namespace Mallard.Quic.Frames;

/// <summary>
/// Writes frames into a packet payload buffer (RFC 9000 section 19, RFC 9221 section 4). Each
/// method writes a whole frame or nothing, and returns false when it does not fit.
/// </summary>
internal ref struct FrameWriter
{
    private readonly Span<byte> _buffer;
    private int _position;

    public FrameWriter(Span<byte> buffer)
    {
        _buffer = buffer;
        _position = 0;
    }

    /// <summary>Octets written so far.</summary>
    public readonly int Length => _position;

    public readonly int Remaining => _buffer.Length - _position;

    public bool Padding(int count)
    {
        if (count > Remaining)
        {
            return false;
        }

        _buffer.Slice(_position, count).Clear();
        _position += count;
        return true;
    }

    public bool Ping() => Frame(FrameType.Ping);

    public bool HandshakeDone() => Frame(FrameType.HandshakeDone);

    /// <summary>
    /// ACK with ranges given largest first as (smallest, largest), non-overlapping and descending.
    /// </summary>
    public bool Ack(scoped ReadOnlySpan<(ulong Smallest, ulong Largest)> ranges, ulong ackDelay, (ulong Ect0, ulong Ect1, ulong Ce)? ecn = null)
    {
        int start = _position;
        bool ok = Integer(ecn is null ? 0x02UL : 0x03UL) && Integer(ranges[0].Largest) && Integer(ackDelay)
            && Integer((ulong)(ranges.Length - 1)) && Integer(ranges[0].Largest - ranges[0].Smallest);
        for (int i = 1; ok && i < ranges.Length; i++)
        {
            ok = Integer(ranges[i - 1].Smallest - ranges[i].Largest - 2) && Integer(ranges[i].Largest - ranges[i].Smallest);
        }

        if (ok && ecn is (ulong ect0, ulong ect1, ulong ce))
        {
            ok = Integer(ect0) && Integer(ect1) && Integer(ce);
        }

        return Finish(ok, start);
    }

    public bool ResetStream(ulong streamId, ulong errorCode, ulong finalSize) =>
        Fields(FrameType.ResetStream, streamId, errorCode, finalSize);

    public bool StopSending(ulong streamId, ulong errorCode) => Fields(FrameType.StopSending, streamId, errorCode);

    public bool Crypto(ulong offset, scoped ReadOnlySpan<byte> data)
    {
        int start = _position;
        return Finish(Integer((ulong)FrameType.Crypto) && Integer(offset) && Integer((ulong)data.Length) && Bytes(data), start);
    }

    public bool NewToken(scoped ReadOnlySpan<byte> token)
    {
        int start = _position;
        return Finish(Integer((ulong)FrameType.NewToken) && Integer((ulong)token.Length) && Bytes(token), start);
    }

    /// <summary>STREAM; the offset is written only when non-zero, the length only when <paramref name="withLength"/> (otherwise the data runs to the end of the packet).</summary>
    public bool Stream(ulong streamId, ulong offset, scoped ReadOnlySpan<byte> data, bool fin, bool withLength = true)
    {
        int start = _position;
        ulong type = 0x08 | (offset != 0 ? 0x04UL : 0) | (withLength ? 0x02UL : 0) | (fin ? 0x01UL : 0);
        bool ok = Integer(type) && Integer(streamId) && (offset == 0 || Integer(offset))
            && (!withLength || Integer((ulong)data.Length)) && Bytes(data);
        return Finish(ok, start);
    }

    public bool MaxData(ulong maximum) => Fields(FrameType.MaxData, maximum);

    public bool MaxStreamData(ulong streamId, ulong maximum) => Fields(FrameType.MaxStreamData, streamId, maximum);

    public bool MaxStreams(bool bidirectional, ulong maximum) => Fields(bidirectional ? FrameType.MaxStreamsBidi : FrameType.MaxStreamsUni, maximum);

    public bool DataBlocked(ulong limit) => Fields(FrameType.DataBlocked, limit);

    public bool StreamDataBlocked(ulong streamId, ulong limit) => Fields(FrameType.StreamDataBlocked, streamId, limit);

    public bool StreamsBlocked(bool bidirectional, ulong limit) => Fields(bidirectional ? FrameType.StreamsBlockedBidi : FrameType.StreamsBlockedUni, limit);

    public bool NewConnectionId(ulong sequence, ulong retirePriorTo, scoped ReadOnlySpan<byte> connectionId, scoped ReadOnlySpan<byte> statelessResetToken)
    {
        int start = _position;
        bool ok = Integer((ulong)FrameType.NewConnectionId) && Integer(sequence) && Integer(retirePriorTo)
            && Integer((ulong)connectionId.Length) && Bytes(connectionId) && Bytes(statelessResetToken[..16]);
        return Finish(ok, start);
    }

    public bool RetireConnectionId(ulong sequence) => Fields(FrameType.RetireConnectionId, sequence);

    public bool PathChallenge(scoped ReadOnlySpan<byte> data) => PathFrame(FrameType.PathChallenge, data);

    public bool PathResponse(scoped ReadOnlySpan<byte> data) => PathFrame(FrameType.PathResponse, data);

    /// <summary>CONNECTION_CLOSE: a transport close names the frame type that caused it; an application close does not.</summary>
    public bool ConnectionClose(bool application, ulong errorCode, ulong frameType, scoped ReadOnlySpan<byte> reason)
    {
        int start = _position;
        bool ok = Integer(application ? 0x1dUL : 0x1cUL) && Integer(errorCode) && (application || Integer(frameType))
            && Integer((ulong)reason.Length) && Bytes(reason);
        return Finish(ok, start);
    }

    /// <summary>DATAGRAM (RFC 9221); without a length it runs to the end of the packet.</summary>
    public bool Datagram(scoped ReadOnlySpan<byte> data, bool withLength = true)
    {
        int start = _position;
        bool ok = Integer(withLength ? 0x31UL : 0x30UL) && (!withLength || Integer((ulong)data.Length)) && Bytes(data);
        return Finish(ok, start);
    }

    private bool PathFrame(FrameType type, scoped ReadOnlySpan<byte> data)
    {
        int start = _position;
        return Finish(Integer((ulong)type) && Bytes(data[..8]), start);
    }

    private bool Frame(FrameType type) => Fields(type);

    private bool Fields(FrameType type, params ReadOnlySpan<ulong> values)
    {
        int start = _position;
        bool ok = Integer((ulong)type);
        foreach (ulong value in values)
        {
            ok = ok && Integer(value);
        }

        return Finish(ok, start);
    }

    private bool Finish(bool ok, int start)
    {
        if (!ok)
        {
            _position = start;
        }

        return ok;
    }

    private bool Integer(ulong value)
    {
        int written = VariableLengthInteger.TryWrite(_buffer[_position..], value);
        _position += written;
        return written > 0;
    }

    private bool Bytes(scoped ReadOnlySpan<byte> data)
    {
        if (data.Length > Remaining)
        {
            return false;
        }

        data.CopyTo(_buffer[_position..]);
        _position += data.Length;
        return true;
    }
}
