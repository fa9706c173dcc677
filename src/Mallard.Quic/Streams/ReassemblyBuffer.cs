using Mallard.Quic.Transport;

namespace Mallard.Quic.Streams;

/// <summary>
/// Puts received STREAM or CRYPTO data back in order (RFC 9000 sections 2.2 and 19.6): data may
/// arrive out of order, overlap or repeat; only the contiguous prefix is readable. Enforces the
/// receive limit (FLOW_CONTROL_ERROR, or CRYPTO_BUFFER_EXCEEDED for CRYPTO) and the final size
/// rules (FINAL_SIZE_ERROR, section 4.5).
/// </summary>
internal sealed class ReassemblyBuffer
{
    private readonly SortedList<ulong, byte[]> _pending = [];
    private readonly Queue<byte[]> _ready = new();
    private readonly TransportErrorCode _limitError;
    private int _readyOffsetInHead;

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

        if (!_pending.TryGetValue(offset, out byte[]? existing) || existing.Length < data.Length)
        {
            _pending[offset] = data.ToArray();
        }

        Advance();
        return TransportErrorCode.NoError;
    }

    /// <summary>Copies up to <paramref name="destination"/>'s length of in-order data and returns how much.</summary>
    public int Read(Span<byte> destination)
    {
        int copied = 0;
        while (copied < destination.Length && _ready.Count > 0)
        {
            byte[] head = _ready.Peek();
            int take = Math.Min(head.Length - _readyOffsetInHead, destination.Length - copied);
            head.AsSpan(_readyOffsetInHead, take).CopyTo(destination[copied..]);
            copied += take;
            _readyOffsetInHead += take;
            if (_readyOffsetInHead == head.Length)
            {
                _ready.Dequeue();
                _readyOffsetInHead = 0;
            }
        }

        ReadOffset += (ulong)copied;
        return copied;
    }

    private void Advance()
    {
        while (_pending.Count > 0)
        {
            ulong start = _pending.Keys[0];
            if (start > ContiguousEnd)
            {
                return;
            }

            byte[] chunk = _pending.Values[0];
            _pending.RemoveAt(0);
            ulong chunkEnd = start + (ulong)chunk.Length;
            if (chunkEnd <= ContiguousEnd)
            {
                continue;
            }

            _ready.Enqueue(chunk[(int)(ContiguousEnd - start)..]);
            ContiguousEnd = chunkEnd;
        }
    }
}
