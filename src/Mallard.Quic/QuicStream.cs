using System.Runtime.CompilerServices;
using Mallard.Quic.Connections;
using Mallard.Quic.Hosting;

namespace Mallard.Quic;

/// <summary>
/// A QUIC stream as a <see cref="Stream"/> (RFC 9000 sections 2-3): reads return 0 at the peer's
/// FIN, <see cref="CompleteWrites"/> sends the FIN, <see cref="Abort"/> resets either half with an
/// application error code. Writes wait while more than <see cref="MaxBufferedBytes"/> is
/// unacknowledged, so a fast writer does not fill memory.
/// </summary>
public sealed class QuicStream : Stream
{
    /// <summary>How much written data may wait for acknowledgment before writes wait.</summary>
    public const int MaxBufferedBytes = 4 * 1024 * 1024;

    private readonly QuicConnection _connection;
    private readonly StreamState _state;
    private readonly long _defaultErrorCode;
    private bool _writesCompleted;
    private volatile bool _readsCompleted;
    private bool _disposed;

    internal QuicStream(QuicConnection connection, StreamState state, long defaultErrorCode)
    {
        _connection = connection;
        _state = state;
        _defaultErrorCode = defaultErrorCode;
    }

    /// <summary>The stream ID (RFC 9000 section 2.1).</summary>
    public long Id => (long)_state.Id;

    /// <summary>Bidirectional or unidirectional.</summary>
    public QuicStreamType Type => _state.IsBidirectional ? QuicStreamType.Bidirectional : QuicStreamType.Unidirectional;

    /// <inheritdoc/>
    public override bool CanRead => _state.Receive is not null && !_disposed;

    /// <inheritdoc/>
    public override bool CanWrite => _state.Send is not null && !_disposed;

    /// <summary>
    /// Whether reading has reached the peer's FIN: true once a read has returned the last octets
    /// (or 0), so that a reader can end its side with the data instead of after one more read —
    /// a server that answers before it has seen the end of a request may otherwise ask the client
    /// to stop sending a request that was complete (RFC 9114 section 4.1).
    /// </summary>
    public bool ReadsCompleted => _readsCompleted;

    /// <inheritdoc/>
    public override bool CanSeek => false;

    /// <inheritdoc/>
    public override long Length => throw new NotSupportedException();

    /// <inheritdoc/>
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    /// <inheritdoc/>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))] // a state machine per call would be garbage on the data path
    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_state.Receive is null)
        {
            throw new InvalidOperationException("this stream has no receiving part");
        }

        int read = 0;
        await _connection.WaitAsync(
            core =>
            {
                if (_state.PeerResetCode is ulong code)
                {
                    throw new QuicException(QuicError.StreamAborted, (long)code, null, $"the peer reset stream {Id} with error code {code}");
                }

                read = core.ReadStream(HostClock.Now, _state.Id, buffer.Span, out bool finished);
                if (finished && _state.PeerResetCode is null)
                {
                    _readsCompleted = true;
                }

                return read > 0 || finished || buffer.IsEmpty;
            },
            cancellationToken).ConfigureAwait(false);
        return read;
    }

    /// <inheritdoc/>
    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) => WriteAsync(buffer, false, cancellationToken);

    /// <summary>Writes, and sends the FIN with the last octet when <paramref name="completeWrites"/>.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))] // a state machine per call would be garbage on the data path
    public async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, bool completeWrites, CancellationToken cancellationToken = default)
    {
        if (_state.Send is null)
        {
            throw new InvalidOperationException("this stream has no sending part");
        }

        int offset = 0;
        do
        {
            await _connection.WaitAsync(
                core =>
                {
                    if (_state.PeerStopCode is ulong code)
                    {
                        throw new QuicException(QuicError.StreamAborted, (long)code, null, $"the peer asked to stop sending on stream {Id} with error code {code}");
                    }

                    if (_state.LocalResetCode is not null || _writesCompleted)
                    {
                        throw new InvalidOperationException("writing is finished on this stream");
                    }

                    long room = MaxBufferedBytes - (long)_state.Send.Buffered;
                    if (room <= 0 && offset < buffer.Length)
                    {
                        return false;
                    }

                    int take = (int)Math.Min(room, buffer.Length - offset);
                    bool last = offset + take == buffer.Length;
                    core.WriteStream(_state.Id, buffer.Span.Slice(offset, take), completeWrites && last);
                    offset += take;
                    _writesCompleted = completeWrites && last;
                    return true;
                },
                cancellationToken).ConfigureAwait(false);
        }
        while (offset < buffer.Length);
    }

    /// <summary>Sends the FIN: no more data will be written (RFC 9000 section 3.1).</summary>
    public void CompleteWrites()
    {
        lock (_connection.Gate)
        {
            if (_writesCompleted || _state.Send is null || _state.LocalResetCode is not null || _connection.Core.GetStream(_state.Id) is null)
            {
                return;
            }

            _writesCompleted = true;
            _connection.Core.WriteStream(_state.Id, default, fin: true);
            _connection.FlushLocked();
        }
    }

    /// <summary>
    /// Waits until the writing half is over: the peer has acknowledged every octet and the FIN
    /// (after <see cref="CompleteWrites"/>), or the half was reset by either side (RFC 9000
    /// section 3.1, "Data Recvd" or "Reset Recvd"). Throws <see cref="QuicException"/> when the
    /// connection ends first. A server that reports a stream as closed only then cannot lose the
    /// end of a response to a reset that follows.
    /// </summary>
    public async ValueTask WaitForWritesClosedAsync(CancellationToken cancellationToken = default)
    {
        if (_state.Send is null)
        {
            return;
        }

        await _connection.WaitAsync(
            core => _state.SendDone || _state.LocalResetCode is not null || _state.PeerStopCode is not null || core.GetStream(_state.Id) is null,
            cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Abandons reading (STOP_SENDING), writing (RESET_STREAM) or both, with an application error code.</summary>
    public void Abort(QuicAbortDirection direction, long errorCode)
    {
        lock (_connection.Gate)
        {
            if (direction.HasFlag(QuicAbortDirection.Write))
            {
                _connection.Core.ResetStream(_state.Id, (ulong)errorCode);
            }

            if (direction.HasFlag(QuicAbortDirection.Read))
            {
                _connection.Core.StopSending(_state.Id, (ulong)errorCode);
            }

            _connection.FlushLocked();
        }
    }

    /// <inheritdoc/>
    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    /// <inheritdoc/>
    public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    /// <inheritdoc/>
    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <inheritdoc/>
    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <inheritdoc/>
    public override void Flush()
    {
    }

    /// <inheritdoc/>
    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <inheritdoc/>
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    /// <inheritdoc/>
    public override void SetLength(long value) => throw new NotSupportedException();

    /// <inheritdoc/>
    public override ValueTask DisposeAsync()
    {
        Dispose(true);
        return ValueTask.CompletedTask;
    }

    /// <summary>Completes writes gracefully; stops reading with the default error code when unread data remains.</summary>
    protected override void Dispose(bool disposing)
    {
        if (_disposed || !disposing)
        {
            return;
        }

        _disposed = true;
        CompleteWrites();
        lock (_connection.Gate)
        {
            if (_state.Receive is { IsFinished: false } && _state.PeerResetCode is null)
            {
                _connection.Core.StopSending(_state.Id, (ulong)_defaultErrorCode);
                _connection.FlushLocked();
            }
        }

        base.Dispose(disposing);
    }
}
