namespace Mallard.Quic.Streams;

/// <summary>
/// The sending side of a stream's data (RFC 9000 sections 2-4): what the application wrote, what
/// went out, what the peer acknowledged, and what must be sent again after a loss (lost ranges
/// go first). New data stops at the peer's flow-control limit. Memory is released as the
/// acknowledged prefix advances.
/// </summary>
internal sealed class SendBuffer
{
    // Octets from AckedPrefix to WrittenEnd live in pooled pages (StreamPages): a ring where slot
    // (_head + i) holds the octets [_firstPageOffset + i * PageSize, + PageSize). Writing appends
    // pages, an advancing acknowledged prefix gives whole pages back, and nothing is ever moved or
    // copied twice; a stream with nothing unacknowledged holds no page at all.
    private byte[]?[] _pages = new byte[]?[4];
    private int _head;
    private int _pageCount;
    private ulong _firstPageOffset;
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

    /// <summary>Pages held: those with octets written and not yet acknowledged.</summary>
    public int PagesHeld => _pageCount;

    public void Write(ReadOnlySpan<byte> data)
    {
        if (FinWritten)
        {
            throw new InvalidOperationException("the stream's writing side is already finished");
        }

        while (!data.IsEmpty)
        {
            int within = (int)(WrittenEnd & StreamPages.PageMask);
            Span<byte> room = PageAt(WrittenEnd, allocate: true).AsSpan(within, StreamPages.PageSize - within); // a page is PageSize octets, whatever the pool handed out
            int take = Math.Min(room.Length, data.Length);
            data[..take].CopyTo(room);
            data = data[take..];
            WrittenEnd += (ulong)take;
        }
    }

    public void Finish() => FinWritten = true;

    public void RaisePeerLimit(ulong limit) => PeerLimit = Math.Max(PeerLimit, limit);

    /// <summary>Client, after refused 0-RTT: the server's new limit replaces the remembered one, even when lower (RFC 9000 section 7.4.1); the caller has checked that what was used fits.</summary>
    public void ResetPeerLimit(ulong limit) => PeerLimit = limit;

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
            AckedPrefix = _acked.Ranges[0].End;
            _acked.Remove(0, AckedPrefix);
            ReleasePagesBelow(AckedPrefix);
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

    /// <summary>Copies the buffered octets [<paramref name="offset"/>, + <paramref name="length"/>) into <paramref name="destination"/>, across pages.</summary>
    private void Copy(ulong offset, int length, Span<byte> destination)
    {
        while (length > 0)
        {
            int within = (int)(offset & StreamPages.PageMask);
            ReadOnlySpan<byte> page = PageAt(offset, allocate: false).AsSpan(within, StreamPages.PageSize - within);
            int take = Math.Min(page.Length, length);
            page[..take].CopyTo(destination);
            destination = destination[take..];
            offset += (ulong)take;
            length -= take;
        }
    }

    /// <summary>The page holding stream offset <paramref name="offset"/>; with <paramref name="allocate"/>, appended when it is the next one.</summary>
    private byte[] PageAt(ulong offset, bool allocate)
    {
        if (_pageCount == 0)
        {
            _firstPageOffset = offset & ~(ulong)StreamPages.PageMask;
        }

        int index = (int)((offset - _firstPageOffset) >> StreamPages.PageShift);
        if (index == _pageCount && allocate)
        {
            if (_pageCount == _pages.Length)
            {
                var grown = new byte[]?[_pages.Length * 2];
                for (int i = 0; i < _pageCount; i++)
                {
                    grown[i] = _pages[(_head + i) & (_pages.Length - 1)];
                }

                _pages = grown;
                _head = 0;
            }

            _pages[(_head + _pageCount) & (_pages.Length - 1)] = StreamPages.Data.Rent(StreamPages.PageSize);
            _pageCount++;
        }

        return _pages[(_head + index) & (_pages.Length - 1)]!;
    }

    /// <summary>Gives back every page whose octets all lie below <paramref name="offset"/>, and the last one too once nothing is buffered.</summary>
    private void ReleasePagesBelow(ulong offset)
    {
        while (_pageCount > 0 && (_firstPageOffset + StreamPages.PageSize <= offset || offset == WrittenEnd))
        {
            StreamPages.Data.Return(_pages[_head]!);
            _pages[_head] = null;
            _head = (_head + 1) & (_pages.Length - 1);
            _pageCount--;
            _firstPageOffset += StreamPages.PageSize;
        }
    }
}
