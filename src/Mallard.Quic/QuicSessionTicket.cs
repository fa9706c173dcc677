using Mallard.Quic.Tls;

namespace Mallard.Quic;

/// <summary>
/// A TLS 1.3 session ticket a server issued on a connection (RFC 8446 section 4.6.1), with the
/// resumption secret that goes with it. Give it to <see cref="QuicClientConnectionOptions.SessionTicket"/>
/// to resume: the next handshake to that server (or to any server of a fleet sharing its static
/// key) skips the certificate and its signatures, still with a fresh key exchange. It holds a
/// secret: keep it in memory, as a browser keeps its session cache, and never log it.
/// </summary>
public sealed class QuicSessionTicket
{
    internal QuicSessionTicket(SessionTicket ticket) => Ticket = ticket;

    internal SessionTicket Ticket { get; }

    /// <summary>The server name of the connection that received it (null for an IP address).</summary>
    public string? ServerName => Ticket.ServerName;

    /// <summary>The ALPN protocol of the connection that received it; the ticket resumes only that protocol.</summary>
    public string? ApplicationProtocol => Ticket.ApplicationProtocol;

    /// <summary>Whether the server allows 0-RTT early data with it (<see cref="QuicClientConnectionOptions.EarlyData"/>).</summary>
    public bool AllowsEarlyData => Ticket.AllowsEarlyData && Ticket.ServerTransportParameters is not null;

    /// <summary>When the server stops accepting it.</summary>
    public DateTimeOffset ExpiresAt => DateTimeOffset.FromUnixTimeMilliseconds(Ticket.ExpiresAtMilliseconds);
}
