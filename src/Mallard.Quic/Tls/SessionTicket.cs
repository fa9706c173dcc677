using Mallard.Quic.Crypto;

namespace Mallard.Quic.Tls;

/// <summary>
/// What a client keeps from a NewSessionTicket to resume with (RFC 8446 section 4.6.1): the
/// server's opaque ticket, the PSK it stands for and the suite whose hash goes with it, when it
/// arrived and for how long it holds, the age obfuscator, and the server name and ALPN protocol
/// of the connection that got it; for 0-RTT, whether the server allows early data with it and the
/// server's transport parameters that early data must respect (RFC 9000 section 7.4.1).
/// </summary>
internal sealed record SessionTicket(byte[] Ticket, CipherSuite Suite, byte[] PreSharedKey, long ReceivedAtMilliseconds, uint LifetimeSeconds, uint AgeAdd,
    string? ServerName, string? ApplicationProtocol)
{
    /// <summary>Whether the ticket carried early_data: 0-RTT may be attempted with it (RFC 8446 section 4.2.10).</summary>
    public bool AllowsEarlyData { get; init; }

    /// <summary>The quic_transport_parameters the server sent on the connection that got the ticket, remembered for 0-RTT.</summary>
    public byte[]? ServerTransportParameters { get; init; }

    /// <summary>When the ticket stops being offered (Unix milliseconds).</summary>
    public long ExpiresAtMilliseconds => ReceivedAtMilliseconds + (LifetimeSeconds * 1000L);

    /// <summary>obfuscated_ticket_age: the ticket's age in milliseconds plus ticket_age_add, modulo 2^32.</summary>
    public uint ObfuscatedAge(long nowMilliseconds) => unchecked((uint)(nowMilliseconds - ReceivedAtMilliseconds) + AgeAdd);
}
