using System.Net;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;

namespace Mallard.Quic.AspNetCore;

/// <summary>
/// One QUIC connection as Kestrel's HTTP/3 sees it: streams accepted and opened, and a close with
/// the HTTP/3 error code Kestrel chose (<see cref="IProtocolErrorCodeFeature"/>; H3_NO_ERROR after
/// a GOAWAY, RFC 9114 section 5.2).
/// </summary>
internal sealed class MallardQuicConnectionContext : MultiplexedConnectionContext, IProtocolErrorCodeFeature, ITlsConnectionFeature
{
    private readonly QuicConnection _connection;
    private readonly QuicConnectionOptions _options;
    private readonly ILogger _log;
    private readonly CancellationTokenSource _closed = new();
    private readonly Lock _gate = new();
    private readonly Stack<MallardQuicStreamContext> _streamPool = new();
    private Task? _closing;
    private long? _error;

    public MallardQuicConnectionContext(QuicConnection connection, QuicConnectionOptions options, ILogger log)
    {
        _connection = connection;
        _options = options;
        _log = log;
        LocalEndPoint = connection.LocalEndPoint;
        RemoteEndPoint = connection.RemoteEndPoint;
        ConnectionClosed = _closed.Token;
        Features.Set<IProtocolErrorCodeFeature>(this);
        Features.Set<ITlsConnectionFeature>(this); // QUIC is always TLS: Kestrel checks :scheme https against it
    }

    public override string ConnectionId { get; set; } = Guid.NewGuid().ToString("N")[..13];

    public override IFeatureCollection Features { get; } = new FeatureCollection();

    public override IDictionary<object, object?> Items { get; set; } = new ConnectionItems();

    public override EndPoint? LocalEndPoint { get; set; }

    public override EndPoint? RemoteEndPoint { get; set; }

    /// <summary>The application error code the connection closes with (-1 until Kestrel sets one).</summary>
    public long Error
    {
        get => _error ?? -1;
        set => _error = value;
    }

    /// <summary>Mallard.Quic asks no client certificate, so there is none.</summary>
    public X509Certificate2? ClientCertificate { get; set; }

    public Task<X509Certificate2?> GetClientCertificateAsync(CancellationToken cancellationToken) => Task.FromResult(ClientCertificate);

    public override async ValueTask<ConnectionContext?> AcceptAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            QuicStream stream = await _connection.AcceptInboundStreamAsync(cancellationToken).ConfigureAwait(false);
            return MallardQuicStreamContext.Start(this, stream, _options.DefaultStreamErrorCode, _log);
        }
        catch (QuicException ended) when (ended.QuicError == QuicError.ConnectionAborted && _closing is null)
        {
            // The peer closed the connection: its code is the connection's error (RFC 9114 section 5.2).
            _error = ended.ApplicationErrorCode;
            _closed.Cancel();
            throw new ConnectionResetException(ended.Message, ended);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Kestrel cancels an accept to start a graceful close (GOAWAY) and then accepts again
            // while its requests finish: the connection is not over.
            return null;
        }
        catch (Exception ended) when (ended is QuicException or OperationCanceledException or ObjectDisposedException)
        {
            _closed.Cancel();
            return null; // closed by this side or idle
        }
    }

    public override async ValueTask<ConnectionContext> ConnectAsync(IFeatureCollection? features = null, CancellationToken cancellationToken = default)
    {
        // Kestrel opens its control and QPACK streams as unidirectional ones (RFC 9114 section 6.2).
        bool bidirectional = features?.Get<IStreamDirectionFeature>() is not { CanRead: false };
        QuicStream stream = await _connection.OpenOutboundStreamAsync(bidirectional ? QuicStreamType.Bidirectional : QuicStreamType.Unidirectional, cancellationToken).ConfigureAwait(false);
        return MallardQuicStreamContext.Start(this, stream, _options.DefaultStreamErrorCode, _log);
    }

    /// <summary>
    /// Request stream contexts kept for reuse at most: each carries Kestrel's HTTP/3 stream object
    /// (a few kilobytes), so the pool holds what this many concurrent requests needed, no more.
    /// </summary>
    internal const int MaxPooledStreams = 32;

    /// <summary>A request stream context that ended cleanly, to carry a new stream; null when none waits.</summary>
    internal MallardQuicStreamContext? TryRentStreamContext()
    {
        lock (_gate)
        {
            return _streamPool.TryPop(out MallardQuicStreamContext? context) ? context : null;
        }
    }

    /// <summary>Keeps <paramref name="context"/> for the next request stream; false when the pool is full or the connection is closing.</summary>
    internal bool TryReturnStreamContext(MallardQuicStreamContext context)
    {
        lock (_gate)
        {
            if (_closing is not null || _streamPool.Count >= MaxPooledStreams)
            {
                return false;
            }

            _streamPool.Push(context);
            return true;
        }
    }

    public override void Abort() => Abort(new ConnectionAbortedException("the connection was aborted by the application"));

    public override void Abort(ConnectionAbortedException abortReason)
    {
        lock (_gate)
        {
            if (_closing is not null)
            {
                return;
            }

            long code = _error is long error and >= 0 ? error : _options.DefaultCloseErrorCode;
            _log.LogDebug("HTTP/3 connection {Id} closing with 0x{Code:x}: {Reason}", ConnectionId, code, abortReason.Message);
            _closing = _connection.CloseAsync(code).AsTask();
        }
    }

    public override async ValueTask DisposeAsync()
    {
        Abort();
        try
        {
            await _closing!.ConfigureAwait(false);
        }
        catch (QuicException)
        {
            // Closed already by the peer or the idle timer: nothing left to say.
        }

        await _connection.DisposeAsync().ConfigureAwait(false);
        lock (_gate)
        {
            while (_streamPool.TryPop(out MallardQuicStreamContext? pooled))
            {
                pooled.Free();
            }
        }

        _closed.Cancel();
        _closed.Dispose();
    }
}
