using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;

namespace Mallard.Quic.AspNetCore;

/// <summary>
/// One QUIC stream as a Kestrel connection: its data through a pair of pipes, with the features
/// Kestrel's HTTP/3 asks a stream for — direction, ID, the error code of an abort (RFC 9114
/// section 8.1), aborting each half, and a callback once both halves are done. A request stream
/// that ended cleanly goes back to its connection's pool (<see cref="IDisposable.Dispose"/>, which
/// Kestrel calls once it is done with it) and carries the next request stream: Kestrel keeps its
/// HTTP/3 stream object in <see cref="IPersistentStateFeature"/> and reuses it instead of building
/// one per request.
/// </summary>
internal sealed class MallardQuicStreamContext : ConnectionContext,
    IStreamDirectionFeature, IStreamIdFeature, IProtocolErrorCodeFeature, IStreamAbortFeature, IStreamClosedFeature, IPersistentStateFeature, IDisposable
{
    private readonly MallardQuicConnectionContext _connection;
    private readonly long _defaultErrorCode;
    private readonly ILogger _log;
    private readonly Pipe _input = new(new PipeOptions(useSynchronizationContext: false));
    private readonly Pipe _output = new(new PipeOptions(useSynchronizationContext: false));
    private readonly Lock _gate = new();
    private QuicStream _stream = null!;
    private CancellationTokenSource _closed = new();
    private CancellationTokenSource _readAborted = new();
    private List<(Action<object?> Callback, object? State)>? _onClosed;
    private bool _ended;
    private bool _aborted;
    private bool _canReuse;
    private long? _error;
    private string? _connectionId;
    private Task _reading = Task.CompletedTask;
    private Task _writing = Task.CompletedTask;
    private Task _ending = Task.CompletedTask;
    private IDictionary<object, object?>? _state;

    private MallardQuicStreamContext(MallardQuicConnectionContext connection, long defaultErrorCode, ILogger log)
    {
        _connection = connection;
        _defaultErrorCode = defaultErrorCode;
        _log = log;
        LocalEndPoint = connection.LocalEndPoint;
        Transport = new DuplexPipe(_input.Reader, _output.Writer);
        Features.Set<IStreamDirectionFeature>(this);
        Features.Set<IStreamIdFeature>(this);
        Features.Set<IProtocolErrorCodeFeature>(this);
        Features.Set<IStreamAbortFeature>(this);
        Features.Set<IStreamClosedFeature>(this);
        Features.Set<IPersistentStateFeature>(this);
        // Kestrel reads a request's connection features from its stream: the TLS feature is the
        // connection's (the :scheme check, RFC 9114 section 4.3.1, wants https).
        Features.Set(connection.Features.Get<ITlsConnectionFeature>());
    }

    public override string ConnectionId
    {
        get => _connectionId ??= $"{_connection.ConnectionId}:{StreamId}"; // Kestrel's request ID, made only when asked for
        set => _connectionId = value;
    }

    public override IFeatureCollection Features { get; } = new FeatureCollection();

    public override IDictionary<object, object?> Items { get; set; } = new ConnectionItems();

    public override IDuplexPipe Transport { get; set; }

    public override EndPoint? LocalEndPoint { get; set; }

    public override EndPoint? RemoteEndPoint { get; set; }

    public bool CanRead { get; private set; }

    public bool CanWrite { get; private set; }

    public long StreamId { get; private set; }

    /// <summary>The application error code of this stream's aborts (-1 until Kestrel sets one).</summary>
    public long Error
    {
        get => _error ?? -1;
        set => _error = value;
    }

    IDictionary<object, object?> IPersistentStateFeature.State => _state ??= new ConnectionItems();

    /// <summary>Wraps <paramref name="stream"/> (in a pooled context when it is a request stream and one is free) and starts moving its data between the pipes and the stream.</summary>
    public static MallardQuicStreamContext Start(MallardQuicConnectionContext connection, QuicStream stream, long defaultErrorCode, ILogger log)
    {
        MallardQuicStreamContext context = (stream.CanRead && stream.CanWrite ? connection.TryRentStreamContext() : null) ?? new MallardQuicStreamContext(connection, defaultErrorCode, log);
        context.Initialize(connection, stream);
        if (context.CanRead)
        {
            context._reading = context.ReadFromStreamAsync();
        }
        else
        {
            context._input.Writer.Complete(); // a unidirectional stream of ours: nothing to read
        }

        if (context.CanWrite)
        {
            context._writing = context.WriteToStreamAsync();
        }
        else
        {
            context._output.Reader.Complete(); // a peer's unidirectional stream: nothing to write
        }

        context._ending = context.EndWhenBothDoneAsync();
        return context;
    }

    /// <summary>Takes on a new stream: fresh or back from the pool, with the pipes reset and nothing of the last stream's left.</summary>
    private void Initialize(MallardQuicConnectionContext connection, QuicStream stream)
    {
        _stream = stream;
        CanRead = stream.CanRead;
        CanWrite = stream.CanWrite;
        StreamId = stream.Id;
        _connectionId = null;
        RemoteEndPoint = connection.RemoteEndPoint;
        _error = null;
        _ended = false;
        _aborted = false;
        _canReuse = false;
        _onClosed = null;
        if (_closed.IsCancellationRequested)
        {
            _closed.Dispose();
            _closed = new CancellationTokenSource();
        }

        if (!_readAborted.TryReset())
        {
            _readAborted.Dispose();
            _readAborted = new CancellationTokenSource();
        }

        ConnectionClosed = _closed.Token;
        if (Items.Count > 0)
        {
            Items.Clear();
        }
    }

    public void AbortRead(long errorCode, ConnectionAbortedException abortReason)
    {
        _error = errorCode;
        _aborted = true;
        _log.LogDebug("HTTP/3 stream {Id}: reading aborted with 0x{Code:x} ({Reason})", ConnectionId, errorCode, abortReason.Message);
        // Kestrel stopped reading by itself (for example after answering before the request's FIN
        // arrived, RFC 9114 section 4.1): the read pump ends quietly, also when the client answers
        // the STOP_SENDING with a RESET_STREAM. Completing the pipe with an error would read as the
        // client resetting the request, and Kestrel would reset the response it just wrote.
        Try(_readAborted.Cancel);
        Try(() => _stream.Abort(QuicAbortDirection.Read, errorCode));
    }

    public void AbortWrite(long errorCode, ConnectionAbortedException abortReason)
    {
        _error = errorCode;
        _aborted = true;
        _log.LogDebug("HTTP/3 stream {Id}: writing aborted with 0x{Code:x} ({Reason})", ConnectionId, errorCode, abortReason.Message);
        Try(() => _stream.Abort(QuicAbortDirection.Write, errorCode));
        _output.Reader.CancelPendingRead();
    }

    public override void Abort(ConnectionAbortedException abortReason)
    {
        long code = ErrorOrDefault;
        if (CanRead)
        {
            AbortRead(code, abortReason);
        }

        if (CanWrite)
        {
            AbortWrite(code, abortReason);
        }
    }

    void IStreamClosedFeature.OnClosed(Action<object?> callback, object? state)
    {
        lock (_gate)
        {
            if (!_ended)
            {
                (_onClosed ??= []).Add((callback, state));
                return;
            }
        }

        callback(state); // already over
    }

    /// <summary>Kestrel drains the stream: both pumps end, the stream is released, and a cleanly ended request stream becomes reusable.</summary>
    public override async ValueTask DisposeAsync()
    {
        _input.Reader.Complete();
        _output.Writer.Complete();
        await Task.WhenAll(_reading, _writing, _ending).ConfigureAwait(false);
        await _stream.DisposeAsync().ConfigureAwait(false);
        _canReuse = CanRead && CanWrite && !_aborted;
    }

    /// <summary>Kestrel is done with the stream (it calls this after <see cref="DisposeAsync"/>): back to the pool, or freed.</summary>
    public void Dispose()
    {
        if (_canReuse)
        {
            _canReuse = false;
            _input.Reset();
            _output.Reset();
            if (_connection.TryReturnStreamContext(this))
            {
                return;
            }
        }

        Free();
    }

    /// <summary>Frees what a context holds beyond its memory (a pooled one, when its connection ends).</summary>
    internal void Free()
    {
        _closed.Dispose();
        _readAborted.Dispose();
    }

    private long ErrorOrDefault => _error is long error and >= 0 ? error : _defaultErrorCode;

    /// <summary>Stream to input pipe until the peer's FIN (the pipe completes) or its RESET_STREAM (the pipe fails).</summary>
    private async Task ReadFromStreamAsync()
    {
        PipeWriter writer = _input.Writer;
        try
        {
            while (true)
            {
                Memory<byte> buffer = writer.GetMemory(4096);
                int read = await _stream.ReadAsync(buffer, _readAborted.Token).ConfigureAwait(false);
                if (read == 0)
                {
                    break; // FIN
                }

                writer.Advance(read);
                if (_stream.ReadsCompleted)
                {
                    break; // the FIN came with these octets: Kestrel sees them and the end together
                }

                FlushResult flushed = await writer.FlushAsync().ConfigureAwait(false);
                if (flushed.IsCompleted || flushed.IsCanceled)
                {
                    break; // Kestrel stopped reading
                }
            }

            await writer.CompleteAsync().ConfigureAwait(false); // commits what was advanced, then the end
        }
        catch (Exception) when (_readAborted.IsCancellationRequested)
        {
            await writer.CompleteAsync().ConfigureAwait(false); // AbortRead: nobody reads any more
        }
        catch (QuicException reset) when (reset.ApplicationErrorCode is long code)
        {
            _error = code;
            _aborted = true;
            await writer.CompleteAsync(new ConnectionResetException($"the peer reset the stream with 0x{code:x}", reset)).ConfigureAwait(false);
        }
        catch (Exception failed) when (failed is QuicException or ObjectDisposedException or InvalidOperationException)
        {
            _aborted = true;
            await writer.CompleteAsync(new ConnectionAbortedException(failed.Message, failed)).ConfigureAwait(false);
        }
    }

    /// <summary>Output pipe to stream; Kestrel completing the pipe sends the FIN, completing it with an error resets the stream.</summary>
    private async Task WriteToStreamAsync()
    {
        PipeReader reader = _output.Reader;
        try
        {
            while (true)
            {
                ReadResult result = await reader.ReadAsync().ConfigureAwait(false);
                if (result.IsCanceled)
                {
                    break; // AbortWrite: the stream is reset already
                }

                ReadOnlySequence<byte> data = result.Buffer;
                foreach (ReadOnlyMemory<byte> segment in data)
                {
                    await _stream.WriteAsync(segment, completeWrites: false).ConfigureAwait(false);
                }

                reader.AdvanceTo(data.End);
                if (result.IsCompleted)
                {
                    _stream.CompleteWrites();
                    break;
                }
            }

            await reader.CompleteAsync().ConfigureAwait(false);
        }
        catch (Exception failed) when (failed is not OutOfMemoryException)
        {
            // Kestrel completed its side with an error, or the peer stopped the stream (STOP_SENDING).
            _aborted = true;
            long code = failed is QuicException { ApplicationErrorCode: long peerCode } ? peerCode : ErrorOrDefault;
            Try(() => _stream.Abort(QuicAbortDirection.Write, code));
            await reader.CompleteAsync(failed).ConfigureAwait(false);
        }

        try
        {
            // The stream counts as closed for Kestrel (IStreamClosedFeature) only once the client
            // has the whole response: Kestrel resets a stream that closes while it thinks the
            // request unfinished, and a reset before the acknowledgment would cut the response.
            await _stream.WaitForWritesClosedAsync().ConfigureAwait(false);
        }
        catch (Exception gone) when (gone is QuicException or ObjectDisposedException)
        {
            // the connection ended first: nothing more will be acknowledged
        }
    }

    private async Task EndWhenBothDoneAsync()
    {
        await Task.WhenAll(_reading, _writing).ConfigureAwait(false);
        List<(Action<object?> Callback, object? State)>? callbacks;
        lock (_gate)
        {
            _ended = true;
            callbacks = _onClosed;
            _onClosed = null;
        }

        foreach ((Action<object?> callback, object? state) in callbacks ?? [])
        {
            try
            {
                callback(state);
            }
            catch (Exception failed) when (failed is not OutOfMemoryException)
            {
                _log.LogWarning(failed, "HTTP/3 stream {Id}: a close callback failed", ConnectionId);
            }
        }

        try
        {
            _closed.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // disposed before both halves ended
        }
    }

    private static void Try(Action abort)
    {
        try
        {
            abort();
        }
        catch (Exception gone) when (gone is ObjectDisposedException or InvalidOperationException or QuicException)
        {
            // the stream or its connection is over already
        }
    }

    private sealed class DuplexPipe(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;

        public PipeWriter Output { get; } = output;
    }
}
