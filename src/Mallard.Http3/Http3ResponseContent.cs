using Mallard.Http3.Frames;
using Mallard.Quic;

namespace Mallard.Http3;

/// <summary>
/// A response body read from the DATA frames of its request stream (RFC 9114 section 4.1):
/// unknown frames are skipped, a HEADERS frame after the body is the trailers, and anything after
/// the trailers, or a frame not allowed on a request stream, is a connection error.
/// </summary>
internal sealed class Http3ResponseContent(Http3ClientConnection connection, QuicStream stream, Http3FrameReader reader, long? declaredLength) : Stream
{
    private long _remainingInFrame;
    private long _received;
    private bool _ended;
    private bool _trailersSeen;

    public IReadOnlyList<KeyValuePair<string, string>> Trailers { get; private set; } = [];

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => _received; set => throw new NotSupportedException(); }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        try
        {
            return await ReadCoreAsync(buffer, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception failure) when (failure is not OperationCanceledException)
        {
            throw connection.Translate(failure);
        }
    }

    private async ValueTask<int> ReadCoreAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        while (!_ended && !buffer.IsEmpty)
        {
            if (_remainingInFrame > 0)
            {
                int n = await reader.ReadSomeAsync(buffer[..(int)Math.Min(buffer.Length, _remainingInFrame)], cancellationToken).ConfigureAwait(false);
                if (n == 0)
                {
                    throw connection.ConnectionError(Http3ErrorCode.FrameError, "the response stream ended inside a DATA frame");
                }

                _remainingInFrame -= n;
                _received += n;
                if (declaredLength is long declared && _received > declared)
                {
                    throw MessageError($"more body than content-length {declared}");
                }

                return n;
            }

            if (await reader.ReadFrameHeaderAsync(cancellationToken).ConfigureAwait(false) is not (long type, long length))
            {
                _ended = true;
                if (declaredLength is long declared && _received != declared)
                {
                    throw MessageError($"{_received} bytes of body where content-length said {declared}");
                }

                break;
            }

            switch (type)
            {
                case Http3FrameType.Data when !_trailersSeen:
                    _remainingInFrame = length;
                    break;
                case Http3FrameType.Headers when !_trailersSeen:
                    byte[] section = await reader.ReadPayloadAsync(length, Http3ClientConnection.MaxFieldSectionSize, Http3ErrorCode.ExcessiveLoad, "a trailers HEADERS frame", cancellationToken).ConfigureAwait(false);
                    Trailers = Http3MessageRules.ValidateTrailers(await connection.DecodeAsync(section, stream.Id, cancellationToken).ConfigureAwait(false));
                    _trailersSeen = true;
                    break;
                case Http3FrameType.Data or Http3FrameType.Headers:
                    throw connection.ConnectionError(Http3ErrorCode.FrameUnexpected, "a frame after the response's trailers");
                default:
                    await connection.OnOtherRequestStreamFrameAsync(reader, type, length, cancellationToken).ConfigureAwait(false);
                    break;
            }
        }

        return 0;
    }

    private Http3Exception MessageError(string reason)
    {
        stream.Abort(QuicAbortDirection.Read, (long)Http3ErrorCode.MessageError);
        return new Http3Exception(Http3ErrorCode.MessageError, $"malformed response: {reason}");
    }

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
