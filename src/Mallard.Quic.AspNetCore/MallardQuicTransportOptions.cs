using Mallard.Quic.Connections;

namespace Mallard.Quic.AspNetCore;

/// <summary>
/// What Kestrel's HTTP/3 listeners on Mallard.Quic are made with. The certificate and ALPN come
/// from Kestrel's own HTTPS options (<c>listenOptions.UseHttps(...)</c>); everything particular to
/// Mallard is here.
/// </summary>
public sealed class MallardQuicTransportOptions
{
    /// <summary>
    /// The settings every connection gets: idle timeout, stream limits, flow-control windows,
    /// congestion control, DATAGRAMs, qlog (<see cref="QuicConnectionOptions.QlogDirectory"/>) and
    /// key log (<see cref="QuicConnectionOptions.KeyLog"/>).
    /// </summary>
    public QuicConnectionOptions ConnectionOptions { get; set; } = new();

    /// <summary>
    /// The server's connection IDs; a <see cref="QuicLbConnectionIdGenerator"/> makes them
    /// routable by <c>mallard lb</c> (QUIC-LB). Random IDs when null.
    /// </summary>
    public IConnectionIdGenerator? ConnectionIdGenerator { get; set; }

    /// <summary>
    /// 64 secret octets that stateless reset tokens, address validation tokens and session tickets
    /// are derived from; share it across a fleet behind one balancer (a client then resumes its TLS
    /// session on any server), or keep it across restarts. Random per listener when null.
    /// </summary>
    public byte[]? StaticKey { get; set; }

    /// <summary>
    /// How long the TLS session ticket issued after each handshake holds (RFC 8446 section 4.6.1):
    /// a client back within it resumes without the certificate exchange. At most seven days;
    /// <see cref="TimeSpan.Zero"/> issues none.
    /// </summary>
    public TimeSpan SessionTicketLifetime { get; set; } = TimeSpan.FromDays(1);

    /// <summary>Answer every new client with a Retry first, so that its address is validated (RFC 9000 section 8.1.2).</summary>
    public bool RequireRetry { get; set; }

    /// <summary>Handshakes from addresses not yet validated that may be under way at once; beyond that, clients get a Retry.</summary>
    public int MaxUnvalidatedHandshakes { get; set; } = 128;

    /// <summary>Connections handshaken but not yet accepted by Kestrel; beyond that, new ones are refused.</summary>
    public int ListenBacklog { get; set; } = 512;

    /// <summary>Refuses what the listener could not use, naming the option (the rest is checked by <see cref="QuicListener.ListenAsync"/> under the same names).</summary>
    internal void Validate()
    {
        if (ConnectionOptions is null)
        {
            throw new ArgumentNullException(nameof(ConnectionOptions), "MallardQuicTransportOptions.ConnectionOptions must be set (it starts as the defaults)");
        }

        if (StaticKey is { Length: not 64 } key)
        {
            throw new ArgumentException($"MallardQuicTransportOptions.StaticKey must be 64 secret octets, not {key.Length}", nameof(StaticKey));
        }

        if (SessionTicketLifetime < TimeSpan.Zero || SessionTicketLifetime > TimeSpan.FromDays(7))
        {
            throw new ArgumentOutOfRangeException(nameof(SessionTicketLifetime), SessionTicketLifetime, "MallardQuicTransportOptions.SessionTicketLifetime must be between zero (no tickets) and 7 days");
        }

        ArgumentOutOfRangeException.ThrowIfNegative(MaxUnvalidatedHandshakes);
        ArgumentOutOfRangeException.ThrowIfLessThan(ListenBacklog, 1);
    }
}
