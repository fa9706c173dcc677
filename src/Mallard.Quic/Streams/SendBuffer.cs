namespace Mallard.Quic.Streams;

/// <summary>
/// The sending side of a stream's data (RFC 9000 sections 2-4): what the application wrote, what
/// went out, what the peer acknowledged, and what must be sent again after a loss (lost ranges
/// go first). New data stops at the peer's flow-control limit. Memory is released as the
/// acknowledged prefix advances.
/// </summary>
internal sealed class SendBuffer
{
    /// <summary>Above this, an empty buffer is given back rather than kept for the next write.</summary>
    private const int RetainedCapacity = 64 * 1024;

    // Octets from AckedPrefix to WrittenEnd live at _data[_start .. _start + Buffered). Releasing
    // the acknowledged prefix only moves _start; live octets move when a write needs the room at
    // the end, and the array doubles when it is more than half full, so each octet is copied a
    // bounded number of times (moving them on every ACK cost a megabyte-sized memmove each).
    private byte[] _data = [];
    private int _start;
    private readonly RangeSet _acked = new();
    private readonly RangeSet _lost = new();
    private bool _finAcked;
    private bool _finLost;

    public SendBuffer(ulong peerLimit) => PeerLimit = peerLimit;

    /// <summary>The peer's MAX_STREAM_DATA.</summary>
    public ulong PeerLimit { get; private set; }

    /// <summary>End of what the application wrote.</summary>
    public ulong WrittenEnd { get; private set; }

    /// <summary>End of what has been sent at least once.</summary>
    public ulong SentEnd { get; private set; }

    /// <summary>Everything below this is acknowledged and released.</summary>
    public ulong AckedPrefix { get; private set; }

    public bool FinWritten { get; private set; }

    public bool FinSent { get; private set; }

    /// <summary>Whether all data and the FIN are acknowledged (the stream's send side is done).</summary>
    public bool IsComplete => FinWritten && _finAcked && AckedPrefix == WrittenEnd;

    /// <summary>Whether new data waits only for the peer's limit (send STREAM_DATA_BLOCKED).</summary>
    public bool IsBlocked => WrittenEnd > SentEnd && SentEnd >= PeerLimit && _lost.IsEmpty;

    /// <summary>Whether there is anything to send now.</summary>
    public bool HasDataToSend => !_lost.IsEmpty || _finLost || (SentEnd < Math.Min(WrittenEnd, PeerLimit)) || (FinWritten && !FinSent && SentEnd == WrittenEnd);

    /// <summary>Whether lost data waits to be sent again (it needs no new flow-control credit).</summary>
    public bool HasLostData => !_lost.IsEmpty || _finLost;

    /// <summary>Octets written and not yet acknowledged (what the sender still holds).</summary>
    public ulong Buffered => WrittenEnd - AckedPrefix;

    public void Write(ReadOnlySpan<byte> data)
    {
        if (FinWritten)
        {
            throw new InvalidOperationException("the stream's writing side is already finished");
        }

        int live = (int)Buffered;
        if (_start + live + data.Length > _data.Length)
        {
            byte[] target = live + data.Length <= _data.Length / 2 ? _data : new byte[Math.Max(2 * _data.Length, live + data.Length)];
            _data.AsSpan(_start, live).CopyTo(target);
            _data = target;
            _start = 0;
        }

        data.CopyTo(_data.AsSpan(_start + live));
        WrittenEnd += (ulong)data.Length;
    }

    public void Finish() => FinWritten = true;

    public void RaisePeerLimit(ulong limit) => PeerLimit = Math.Max(PeerLimit, limit);

    /// <summary>
    /// The next chunk to send, at most <paramref name="maxLength"/> octets (lost data first), copied
    /// into <paramref name="destination"/>. Returns false when there is nothing to send.
    /// </summary>
    public bool TryNext(int maxLength, Span<byte> destination, out ulong offset, out int length, out bool fin)
    {
        offset = 0;
        length = 0;
        fin = false;
        if (!_lost.IsEmpty)
        {
            (ulong start, ulong end) = _lost.Ranges[0];
            length = (int)Math.Min((ulong)Math.Min(maxLength, destination.Length), end - start);
            offset = start;
            Copy(start, length, destination);
            _lost.Remove(start, start + (ulong)length);
            fin = FinSent && start + (ulong)length == WrittenEnd && _finLost;
            if (fin)
            {
                _finLost = false;
            }

            return length > 0 || fin;
        }

        ulong limit = Math.Min(WrittenEnd, PeerLimit);
        if (SentEnd < limit)
        {
            length = (int)Math.Min((ulong)Math.Min(maxLength, destination.Length), limit - SentEnd);
            offset = SentEnd;
            Copy(SentEnd, length, destination);
            SentEnd += (ulong)length;
            fin = FinWritten && SentEnd == WrittenEnd;
            FinSent |= fin;
            return true;
        }

        if ((FinWritten && !FinSent && SentEnd == WrittenEnd) || _finLost)
        {
            // A FIN with no data (or a lost FIN-only frame).
            offset = WrittenEnd;
            fin = true;
            FinSent = true;
            _finLost = false;
            return true;
        }

        return false;
    }

    /// <summary>The peer acknowledged the frame [offset, offset + length) (and the FIN if it carried one).</summary>
    public void OnAcked(ulong offset, int length, bool fin)
    {
        // A range can be acknowledged twice (a retransmission and its original); what is below the
        // acknowledged prefix is already released.
        _acked.Add(Math.Max(offset, AckedPrefix), offset + (ulong)length);
        _lost.Remove(offset, offset + (ulong)length);
        _finAcked |= fin;
        if (_acked.Ranges.Count > 0 && _acked.Ranges[0].Start <= AckedPrefix && _acked.Ranges[0].End > AckedPrefix)
        {
            ulong newPrefix = _acked.Ranges[0].End;
            _start += (int)(newPrefix - AckedPrefix);
            AckedPrefix = newPrefix;
            _acked.Remove(0, newPrefix);
            if (Buffered == 0)
            {
                _start = 0;
                if (_data.Length > RetainedCapacity)
                {
                    _data = [];
                }
            }
        }
    }

    /// <summary>The frame [offset, offset + length) was lost: send again what is not acknowledged since.</summary>
    public void OnLost(ulong offset, int length, bool fin)
    {
        ulong start = Math.Max(offset, AckedPrefix);
        ulong end = offset + (ulong)length;
        if (end > start)
        {
            _lost.Add(start, end);
            foreach ((ulong ackedStart, ulong ackedEnd) in _acked.Ranges)
            {
                _lost.Remove(ackedStart, ackedEnd);
            }
        }

        if (fin && !_finAcked)
        {
            _finLost = true;
        }
    }

    private void Copy(ulong offset, int length, Span<byte> destination)
    {
        _data.AsSpan(_start + (int)(offset - AckedPrefix), length).CopyTo(destination);
    }
}
