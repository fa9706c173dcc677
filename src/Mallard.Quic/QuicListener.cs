using System.Net;
using System.Threading.Channels;
using Mallard.Quic.Connections;
using Mallard.Quic.Hosting;
using Mallard.Quic.Tls;

namespace Mallard.Quic;

/// <summary>
/// A QUIC server socket, shaped like System.Net.Quic's: <see cref="ListenAsync"/> binds it,
/// <see cref="AcceptConnectionAsync"/> returns connections whose handshake has completed (or, with
/// <see cref="QuicListenerOptions.EarlyData"/>, whose 0-RTT early data was accepted).
/// Unknown versions get Version Negotiation, and Retry is available (RFC 9000 sections 6 and 8.1).
/// </summary>
public sealed class QuicListener : IAsyncDisposable
{
    private readonly EndpointHost _host;
    private readonly Channel<QuicConnection> _ready;
    private readonly EarlyDataReplayGuard? _replayGuard;

    private QuicListener(EndpointHost host, int backlog, EarlyDataReplayGuard? replayGuard)
    {
        _host = host;
        _replayGuard = replayGuard;
        _ready = Channel.CreateBounded<QuicConnection>(new BoundedChannelOptions(backlog) { FullMode = BoundedChannelFullMode.DropWrite });
    }

    /// <summary>The bound address (with the chosen port when 0 was asked for).</summary>
    public IPEndPoint LocalEndPoint => _host.LocalEndPoint;

    /// <summary>Retry packets sent so far (RFC 9000 section 8.1.2).</summary>
    public long RetriesSent
    {
        get
        {
            lock (_host.Gate)
            {
                return _host.Endpoint.RetriesSent;
            }
        }
    }

    /// <summary>What became of the 0-RTT early data clients offered (all zero unless <see cref="QuicListenerOptions.EarlyData"/> is on).</summary>
    public QuicEarlyDataStatistics EarlyDataStatistics => _replayGuard is { } guard
        ? new QuicEarlyDataStatistics(guard.Accepted, guard.Replays, guard.NotFresh, guard.Full)
        : default;

    /// <summary>Binds the socket and starts accepting handshakes.</summary>
    public static ValueTask<QuicListener> ListenAsync(QuicListenerOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        cancellationToken.ThrowIfCancellationRequested();
        options.ConnectionOptions.Validate();
        ArgumentOutOfRangeException.ThrowIfLessThan(options.ListenBacklog, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(options.MaxUnvalidatedHandshakes);
        if (options.ApplicationProtocols.Count == 0)
        {
            throw new ArgumentException("at least one ALPN protocol is required", nameof(options));
        }

        if (options.SessionTicketLifetime < TimeSpan.Zero || options.SessionTicketLifetime > TimeSpan.FromSeconds(NewSessionTicketMessage.MaxLifetimeSeconds))
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.SessionTicketLifetime, "SessionTicketLifetime must be between zero (no tickets) and 7 days (RFC 8446 section 4.6.1)");
        }

        if (options.EarlyData && options.SessionTicketLifetime == TimeSpan.Zero)
        {
            // 0-RTT rides on session tickets (RFC 9001 section 4.6.1): without them EarlyData would silently do nothing.
            throw new ArgumentException("EarlyData needs session tickets: SessionTicketLifetime is zero (set it above zero, at most 7 days, or turn EarlyData off)", nameof(options));
        }

        QuicConnectionOptions connectionOptions = options.ConnectionOptions;
        ConnectionOptions core = connectionOptions.CoreOptions(isServer: true, options.ApplicationProtocols, options.CipherSuites) with
        {
            Certificate = options.ServerCertificate ?? TlsServerOptions.CreateSelfSignedCertificate(),
            CertificateSelector = options.ServerCertificateSelector,
            ConnectionIds = options.ConnectionIdGenerator ?? new RandomConnectionIdGenerator(),
            SessionTicketLifetimeSeconds = (uint)options.SessionTicketLifetime.TotalSeconds,
            EarlyDataGuard = options.EarlyData ? new EarlyDataReplayGuard() : null,
        };
        var endpoint = new Endpoint(core, staticKey: options.StaticKey) { RequireRetry = options.RequireRetry, MaxUnvalidatedHandshakes = options.MaxUnvalidatedHandshakes };
        var host = new EndpointHost(EndpointHost.Bind(options.ListenEndPoint), endpoint, connectionOptions.MaxReceiveDatagramSize);
        var listener = new QuicListener(host, options.ListenBacklog, core.EarlyDataGuard);
        Action<QuicConnection> ready = connection =>
        {
            if (!listener._ready.Writer.TryWrite(connection))
            {
                connection.Core.Close(HostClock.Now, (ulong)Transport.TransportErrorCode.ConnectionRefused, "accept queue full", application: false);
            }
        };
        endpoint.ConnectionAccepted = connection => host.Register(connection, new QuicConnection(host, connection, connectionOptions, ownsHost: false, ready));
        host.Start();
        return ValueTask.FromResult(listener);
    }

    /// <summary>Waits for the next connection whose handshake has completed, or whose early data was accepted.</summary>
    public async ValueTask<QuicConnection> AcceptConnectionAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            return await _ready.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (ChannelClosedException)
        {
            throw new ObjectDisposedException(nameof(QuicListener));
        }
    }

    /// <summary>
    /// Stops taking new connections while those already accepted go on (a graceful shutdown: an
    /// HTTP/3 server sends GOAWAY and lets its requests finish first, RFC 9114 section 5.2). A
    /// handshake that completes from now on is refused with CONNECTION_REFUSED, and
    /// <see cref="AcceptConnectionAsync"/> ends with <see cref="ObjectDisposedException"/> once
    /// the connections already waiting are taken. <see cref="DisposeAsync"/> then closes the rest.
    /// </summary>
    public void StopAccepting() => _ready.Writer.TryComplete();

    /// <summary>Stops listening; connections already accepted are closed with it.</summary>
    public async ValueTask DisposeAsync()
    {
        _ready.Writer.TryComplete();
        lock (_host.Gate)
        {
            foreach (Connection connection in _host.Endpoint.Connections)
            {
                connection.Close(HostClock.Now, 0, "server shutting down", application: true);
                _host.Endpoint.Touch(connection);
            }

            _host.AfterChangeLocked();
        }

        await _host.DisposeAsync().ConfigureAwait(false);
    }
}
