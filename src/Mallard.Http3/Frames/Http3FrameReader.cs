namespace Mallard.Http3.Frames;

/// <summary>
/// Reads HTTP/3 frames from one QUIC stream through a small buffer: variable-length integers,
/// frame headers, bounded payloads and DATA payloads streamed out as they arrive. A stream that
/// ends inside a frame is H3_FRAME_ERROR (RFC 9114 section 7.1).
/// </summary>
internal sealed class Http3FrameReader(Stream stream)
{
    private readonly byte[] _buffer = new byte[16 * 1024];
    private int _start, _end;

    /// <summary>The next variable-length integer, or null when the stream ended cleanly before it.</summary>
    public async ValueTask<long?> ReadVarIntAsync(CancellationToken cancellationToken)
    {
        if (!await FillAsync(1, cancellationToken).ConfigureAwait(false))
        {
            return null;
        }

        int length = 1 << (_buffer[_start] >> 6);
        if (!await FillAsync(length, cancellationToken).ConfigureAwait(false))
        {
            throw new Http3Exception(Http3ErrorCode.FrameError, "the stream ended inside a variable-length integer");
        }

        long value = _buffer[_start] & 0x3F;
        for (int i = 1; i < length; i++)
        {
            value = (value << 8) | _buffer[_start + i];
        }

        _start += length;
        return value;
    }

    /// <summary>The next frame's type and payload length, or null when the stream ended cleanly between frames.</summary>
    public async ValueTask<(long Type, long Length)?> ReadFrameHeaderAsync(CancellationToken cancellationToken)
    {
        if (await ReadVarIntAsync(cancellationToken).ConfigureAwait(false) is not long type)
        {
            return null;
        }

        long length = await ReadVarIntAsync(cancellationToken).ConfigureAwait(false)
            ?? throw new Http3Exception(Http3ErrorCode.FrameError, "the stream ended inside a frame header");
        return (type, length);
    }

    /// <summary>A whole payload of <paramref name="length"/> bytes; longer than <paramref name="limit"/> is refused with <paramref name="tooLong"/>.</summary>
    public async ValueTask<byte[]> ReadPayloadAsync(long length, int limit, Http3ErrorCode tooLong, string what, CancellationToken cancellationToken)
    {
        if (length > limit)
        {
            throw new Http3Exception(tooLong, $"{what} of {length} bytes is larger than the {limit} this end accepts");
        }

        byte[] payload = new byte[length];
        int copied = 0;
        while (copied < payload.Length)
        {
            int n = await ReadSomeAsync(payload.AsMemory(copied), cancellationToken).ConfigureAwait(false);
            if (n == 0)
            {
                throw new Http3Exception(Http3ErrorCode.FrameError, $"the stream ended inside {what}");
            }

            copied += n;
        }

        return payload;
    }

    /// <summary>Discards a payload of <paramref name="length"/> bytes (an unknown frame, section 9) without holding it.</summary>
    public async ValueTask SkipAsync(long length, CancellationToken cancellationToken)
    {
        while (length > 0)
        {
            if (!await FillAsync(1, cancellationToken).ConfigureAwait(false))
            {
                throw new Http3Exception(Http3ErrorCode.FrameError, "the stream ended inside a frame");
            }

            int n = (int)Math.Min(length, _end - _start);
            _start += n;
            length -= n;
        }
    }

    /// <summary>Up to <paramref name="destination"/>'s length of payload bytes; 0 only when the stream ended.</summary>
    public async ValueTask<int> ReadSomeAsync(Memory<byte> destination, CancellationToken cancellationToken)
    {
        if (_start == _end)
        {
            if (destination.Length >= _buffer.Length)
            {
                return await stream.ReadAsync(destination, cancellationToken).ConfigureAwait(false);
            }

            if (!await FillAsync(1, cancellationToken).ConfigureAwait(false))
            {
                return 0;
            }
        }

        int n = Math.Min(destination.Length, _end - _start);
        _buffer.AsMemory(_start, n).CopyTo(destination);
        _start += n;
        return n;
    }

    /// <summary>Makes at least <paramref name="count"/> bytes available; false when the stream ends first.</summary>
    private async ValueTask<bool> FillAsync(int count, CancellationToken cancellationToken)
    {
        if (_end - _start >= count)
        {
            return true;
        }

        if (_start > 0)
        {
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
            _end -= _start;
            _start = 0;
        }

        while (_end < count)
        {
            int n = await stream.ReadAsync(_buffer.AsMemory(_end), cancellationToken).ConfigureAwait(false);
            if (n == 0)
            {
                return false;
            }

            _end += n;
        }

        return true;
    }
}
