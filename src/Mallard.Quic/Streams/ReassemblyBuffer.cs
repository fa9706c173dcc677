using System.Numerics;
using Mallard.Quic.Transport;

namespace Mallard.Quic.Streams;

/// <summary>
/// Puts received STREAM or CRYPTO data back in order (RFC 9000 sections 2.2 and 19.6): data may
/// arrive out of order, overlap or repeat; only the contiguous prefix is readable. Enforces the
/// receive limit (FLOW_CONTROL_ERROR, or CRYPTO_BUFFER_EXCEEDED for CRYPTO) and the final size
/// rules (FINAL_SIZE_ERROR, section 4.5).
/// </summary>
/// <remarks>
/// Data is stored by offset in pooled 4 KiB pages, with one bit per octet saying whether it has
/// arrived. A page exists only where data arrived between the read offset and the limit, so what
/// is held never exceeds the advertised window (plus a page at each end), however the peer overlaps or
/// fragments its frames; each frame costs time in proportion to its length, never to what is
/// already buffered.
/// </remarks>
internal sealed class ReassemblyBuffer
{
    private const int PageShift = StreamPages.PageShift;
    private const int PageSize = StreamPages.PageSize;
    private const int PageMask = StreamPages.PageMask;
    private const int WordsPerPage = StreamPages.WordsPerPage;

    private readonly TransportErrorCode _limitError;

    // A ring of pages: slot (_head + i) holds page _firstPage + i, where _firstPage holds ReadOffset.
    private Page[] _pages = new Page[2];
    private int _head;
    private ulong _firstPage;

    public ReassemblyBuffer(ulong limit, TransportErrorCode limitError = TransportErrorCode.FlowControlError)
    {
        Limit = limit;
        _limitError = limitError;
    }

    /// <summary>The largest offset the peer may send up to (the flow-control limit advertised).</summary>
    public ulong Limit { get; private set; }

    /// <summary>Octets delivered in order so far, readable or already read.</summary>
    public ulong ContiguousEnd { get; private set; }

    /// <summary>Octets already handed to the reader.</summary>
    public ulong ReadOffset { get; private set; }

    /// <summary>The largest offset received, which counts against flow control.</summary>
    public ulong HighestReceived { get; private set; }

    /// <summary>The final size, once a FIN (or RESET_STREAM) has fixed it.</summary>
    public ulong? FinalSize { get; private set; }

    /// <summary>Octets ready to read.</summary>
    public ulong Readable => ContiguousEnd - ReadOffset;

    /// <summary>Whether every octet up to the final size has been read.</summary>
    public bool IsFinished => FinalSize == ReadOffset;

    /// <summary>Whether every octet up to the final size has arrived, read or not ("Data Recvd", RFC 9000 section 3.2).</summary>
    public bool IsAllReceived => FinalSize == ContiguousEnd;

    /// <summary>Octets of memory held for received data (whole pages).</summary>
    public long HeldOctets { get; private set; }

    /// <summary>Raises the limit (after sending MAX_STREAM_DATA or MAX_DATA); never lowers it.</summary>
    public void RaiseLimit(ulong limit) => Limit = Math.Max(Limit, limit);

    /// <summary>Takes one frame's data at <paramref name="offset"/>; returns the error to close with, or NoError.</summary>
    public TransportErrorCode Receive(ulong offset, ReadOnlySpan<byte> data, bool fin)
    {
        ulong end = offset + (ulong)data.Length;
        if (end > Limit)
        {
            return _limitError;
        }

        if (FinalSize is ulong final && (end > final || (fin && end != final)))
        {
            return TransportErrorCode.FinalSizeError;
        }

        if (fin)
        {
            if (end < HighestReceived)
            {
                return TransportErrorCode.FinalSizeError;
            }

            FinalSize = end;
        }

        HighestReceived = Math.Max(HighestReceived, end);
        if (end <= ContiguousEnd || data.IsEmpty)
        {
            return TransportErrorCode.NoError; // Entirely a repeat.
        }

        // Keep only the part beyond what is already in order.
        if (offset < ContiguousEnd)
        {
            data = data[(int)(ContiguousEnd - offset)..];
            offset = ContiguousEnd;
        }

        while (!data.IsEmpty)
        {
            ref Page page = ref PageFor(offset >> PageShift);
            int within = (int)(offset & PageMask);
            int count = Math.Min(data.Length, PageSize - within);
            data[..count].CopyTo(page.Data.AsSpan(within));
            MarkArrived(page.Arrived, within, count);
            data = data[count..];
            offset += (ulong)count;
        }

        Advance();
        return TransportErrorCode.NoError;
    }

    /// <summary>Copies up to <paramref name="destination"/>'s length of in-order data and returns how much.</summary>
    public int Read(Span<byte> destination)
    {
        int copied = 0;
        while (copied < destination.Length && ReadOffset < ContiguousEnd)
        {
            Page page = _pages[_head];
            int within = (int)(ReadOffset & PageMask);
            int count = (int)Math.Min((ulong)Math.Min(PageSize - within, destination.Length - copied), ContiguousEnd - ReadOffset);
            page.Data.AsSpan(within, count).CopyTo(destination[copied..]);
            copied += count;
            ReadOffset += (ulong)count;
            if ((ReadOffset & PageMask) == 0)
            {
                ReleaseHead();
            }
        }

        return copied;
    }

    /// <summary>Returns every page to the pool (the stream was reset or is gone); nothing is readable afterwards.</summary>
    public void Discard()
    {
        for (int i = 0; i < _pages.Length; i++)
        {
            _pages[i].Return();
        }

        HeldOctets = 0;
        ContiguousEnd = Math.Max(ContiguousEnd, HighestReceived);
        ReadOffset = ContiguousEnd;
        _firstPage = ReadOffset >> PageShift;
        _head = 0;
    }

    /// <summary>The page holding offsets of page number <paramref name="pageNumber"/>, created when missing.</summary>
    private ref Page PageFor(ulong pageNumber)
    {
        // Offsets below ReadOffset never get here, and the limit bounds how far ahead a page can be.
        int index = (int)(pageNumber - _firstPage);
        if (index >= _pages.Length)
        {
            Grow(index + 1);
        }

        ref Page page = ref _pages[(_head + index) & (_pages.Length - 1)];
        if (page.Data is null)
        {
            page = Page.Rent();
            HeldOctets += PageSize;
        }

        return ref page;
    }

    private void Grow(int slots)
    {
        var pages = new Page[(int)BitOperations.RoundUpToPowerOf2((uint)slots)];
        for (int i = 0; i < _pages.Length; i++)
        {
            pages[i] = _pages[(_head + i) & (_pages.Length - 1)];
        }

        _pages = pages;
        _head = 0;
    }

    private void ReleaseHead()
    {
        if (_pages[_head].Data is not null)
        {
            _pages[_head].Return();
            HeldOctets -= PageSize;
        }

        _head = (_head + 1) & (_pages.Length - 1);
        _firstPage++;
    }

    private static void MarkArrived(ulong[] arrived, int start, int count)
    {
        int end = start + count;
        while (start < end)
        {
            int bit = start & 63;
            int bits = Math.Min(64 - bit, end - start);
            ulong mask = (bits == 64 ? ulong.MaxValue : (1UL << bits) - 1) << bit;
            arrived[start >> 6] |= mask;
            start += bits;
        }
    }

    /// <summary>Moves <see cref="ContiguousEnd"/> over every octet that has arrived, a word of 64 at a time.</summary>
    private void Advance()
    {
        while (true)
        {
            ulong index = (ContiguousEnd >> PageShift) - _firstPage;
            if (index >= (ulong)_pages.Length)
            {
                return;
            }

            Page page = _pages[(_head + (int)index) & (_pages.Length - 1)];
            if (page.Data is null)
            {
                return;
            }

            int within = (int)(ContiguousEnd & PageMask);
            int bit = within & 63;
            ulong missing = ~page.Arrived[within >> 6] >> bit;
            if (missing != 0)
            {
                ContiguousEnd += (ulong)BitOperations.TrailingZeroCount(missing);
                return;
            }

            ContiguousEnd += (ulong)(64 - bit);
        }
    }

    /// <summary>4 KiB of stream data and a bit per octet for what has arrived, both pooled (<see cref="StreamPages"/>).</summary>
    private struct Page
    {
        public byte[] Data;
        public ulong[] Arrived;

        public static Page Rent()
        {
            ulong[] arrived = StreamPages.Bitmaps.Rent(WordsPerPage);
            Array.Clear(arrived, 0, WordsPerPage);
            return new Page { Data = StreamPages.Data.Rent(PageSize), Arrived = arrived };
        }

        public void Return()
        {
            if (Data is not null)
            {
                StreamPages.Data.Return(Data);
                StreamPages.Bitmaps.Return(Arrived);
                this = default;
            }
        }
    }
}
