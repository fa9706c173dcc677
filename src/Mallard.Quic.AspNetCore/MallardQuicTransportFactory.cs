using System.Net;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Mallard.Quic.AspNetCore;

/// <summary>Makes Kestrel's HTTP/3 listeners on Mallard.Quic (registered by <see cref="MallardQuicWebHostBuilderExtensions.UseMallardQuic"/>).</summary>
internal sealed class MallardQuicTransportFactory(IOptions<MallardQuicTransportOptions> options, ILoggerFactory loggers)
    : IMultiplexedConnectionListenerFactory, IConnectionListenerFactorySelector
{
    private readonly ILogger _log = loggers.CreateLogger("Mallard.Quic.AspNetCore");

    public bool CanBind(EndPoint endpoint) => endpoint is IPEndPoint;

    public async ValueTask<IMultiplexedConnectionListener> BindAsync(EndPoint endpoint, IFeatureCollection? features = null, CancellationToken cancellationToken = default)
    {
        if (endpoint is not IPEndPoint address)
        {
            throw new InvalidOperationException($"Mallard.Quic listens on IP addresses only, not on {endpoint.GetType().Name} {endpoint}.");
        }

        options.Value.Validate();
        TlsConnectionCallbackOptions tls = features?.Get<TlsConnectionCallbackOptions>()
            ?? throw new InvalidOperationException("HTTP/3 needs HTTPS: give the endpoint a certificate (listenOptions.UseHttps(...)).");
        var listener = new MallardQuicConnectionListener(options.Value, tls, address, _log);
        await listener.StartAsync(cancellationToken).ConfigureAwait(false);
        return listener;
    }
}
