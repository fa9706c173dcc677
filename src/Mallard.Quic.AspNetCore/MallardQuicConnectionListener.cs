using System.Net;
using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;

namespace Mallard.Quic.AspNetCore;

/// <summary>One Kestrel HTTP/3 endpoint: a <see cref="QuicListener"/> whose handshaken connections Kestrel accepts.</summary>
internal sealed class MallardQuicConnectionListener(MallardQuicTransportOptions options, TlsConnectionCallbackOptions tls, IPEndPoint endpoint, ILogger log)
    : IMultiplexedConnectionListener
{
    private QuicListener? _listener;
    private int _disposed;

    public EndPoint EndPoint { get; private set; } = endpoint;

    /// <summary>
    /// Asks Kestrel's HTTPS options for the default certificate and the protocols, then listens;
    /// each handshake asks again with the client's server name (SNI), so a certificate selector
    /// in the HTTPS options (<c>ServerCertificateSelector</c>) picks per name.
    /// </summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var context = new TlsConnectionCallbackContext
        {
            ClientHelloInfo = default,
            State = tls.OnConnectionState,
            Connection = new PendingConnection(endpoint),
        };
        SslServerAuthenticationOptions authentication = await tls.OnConnection(context, cancellationToken).ConfigureAwait(false);
        X509Certificate2 certificate = CertificateOf(authentication)
            ?? throw new InvalidOperationException("the HTTPS options of the HTTP/3 endpoint give no server certificate; set one with listenOptions.UseHttps(certificate)");
        IReadOnlyList<string> protocols = [.. (authentication.ApplicationProtocols ?? tls.ApplicationProtocols).Select(p => p.ToString())];
        _listener = await QuicListener.ListenAsync(new QuicListenerOptions
        {
            ListenEndPoint = endpoint,
            ApplicationProtocols = protocols,
            ServerCertificate = certificate,
            ServerCertificateSelector = CertificateFor,
            ConnectionOptions = options.ConnectionOptions,
            ConnectionIdGenerator = options.ConnectionIdGenerator,
            StaticKey = options.StaticKey,
            SessionTicketLifetime = options.SessionTicketLifetime,
            RequireRetry = options.RequireRetry,
            MaxUnvalidatedHandshakes = options.MaxUnvalidatedHandshakes,
            ListenBacklog = options.ListenBacklog,
        }, cancellationToken).ConfigureAwait(false);
        EndPoint = _listener.LocalEndPoint; // the real port when 0 was asked
        log.LogInformation("HTTP/3 on Mallard.Quic listening on {Endpoint} (ALPN {Protocols})", EndPoint, string.Join(", ", protocols));
    }

    public async ValueTask<MultiplexedConnectionContext?> AcceptAsync(IFeatureCollection? features = null, CancellationToken cancellationToken = default)
    {
        QuicListener listener = _listener ?? throw new InvalidOperationException("the listener has not started");
        try
        {
            QuicConnection connection = await listener.AcceptConnectionAsync(cancellationToken).ConfigureAwait(false);
            return new MallardQuicConnectionContext(connection, options.ConnectionOptions, log);
        }
        catch (Exception stopped) when (stopped is OperationCanceledException or ObjectDisposedException or QuicException)
        {
            return null; // unbound or disposed: Kestrel's accept loop ends
        }
    }

    /// <summary>
    /// Kestrel's graceful stop: no new connections, while those accepted finish their requests
    /// after GOAWAY; the socket they share stays open until <see cref="DisposeAsync"/>.
    /// </summary>
    public ValueTask UnbindAsync(CancellationToken cancellationToken = default)
    {
        _listener?.StopAccepting();
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0 && _listener is not null)
        {
            await _listener.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Kestrel's choice for one handshake, by server name. Kestrel's own HTTPS options answer at
    /// once; an application's asynchronous TLS callback is waited for on the listener's I/O thread.
    /// </summary>
    private X509Certificate2? CertificateFor(string? serverName)
    {
        var context = new TlsConnectionCallbackContext
        {
            ClientHelloInfo = new SslClientHelloInfo(serverName ?? "", SslProtocols.Tls13),
            State = tls.OnConnectionState,
            Connection = new PendingConnection(endpoint),
        };
        ValueTask<SslServerAuthenticationOptions> pending = tls.OnConnection(context, CancellationToken.None);
        SslServerAuthenticationOptions chosen = pending.IsCompletedSuccessfully ? pending.Result : pending.AsTask().GetAwaiter().GetResult();
        return CertificateOf(chosen, serverName);
    }

    private static X509Certificate2? CertificateOf(SslServerAuthenticationOptions authentication, string? serverName = null) =>
        authentication.ServerCertificate as X509Certificate2
        ?? authentication.ServerCertificateContext?.TargetCertificate
        ?? authentication.ServerCertificateSelectionCallback?.Invoke(null!, serverName) as X509Certificate2;

    /// <summary>What Kestrel's certificate callback is shown before any connection exists: the endpoint, nothing else.</summary>
    private sealed class PendingConnection(IPEndPoint local) : BaseConnectionContext
    {
        public override string ConnectionId { get; set; } = "pending";

        public override IFeatureCollection Features { get; } = new FeatureCollection();

        public override IDictionary<object, object?> Items { get; set; } = new Dictionary<object, object?>();

        public override EndPoint? LocalEndPoint { get; set; } = local;

        public override void Abort()
        {
        }

        public override void Abort(ConnectionAbortedException abortReason)
        {
        }

        public override ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
