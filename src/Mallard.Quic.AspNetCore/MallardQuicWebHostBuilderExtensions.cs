using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Mallard.Quic.AspNetCore;

/// <summary>Puts Kestrel's HTTP/3 on Mallard.Quic.</summary>
public static class MallardQuicWebHostBuilderExtensions
{
    /// <summary>
    /// Serves Kestrel's HTTP/3 endpoints (<c>listenOptions.Protocols = HttpProtocols.Http3</c> or
    /// <c>Http1AndHttp2AndHttp3</c>, with <c>UseHttps</c>) over Mallard.Quic, in place of the
    /// libmsquic transport: no native QUIC library is needed, and the server's connection IDs,
    /// stateless reset key, Retry, qlog and key log are Mallard's (<paramref name="configure"/>).
    /// </summary>
    public static IWebHostBuilder UseMallardQuic(this IWebHostBuilder builder, Action<MallardQuicTransportOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.ConfigureServices(services =>
        {
            // One QUIC transport: Kestrel binds HTTP/3 with the first factory that accepts the
            // endpoint, and the libmsquic one (registered where msquic is present) would win.
            services.RemoveAll<IMultiplexedConnectionListenerFactory>();
            services.AddSingleton<IMultiplexedConnectionListenerFactory, MallardQuicTransportFactory>();
            if (configure is not null)
            {
                services.Configure(configure);
            }
        });
    }
}
