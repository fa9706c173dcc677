namespace Mallard.Quic.Connections;

/// <summary>
/// The anti-amplification limit (RFC 9000 sections 8.1 and 9.3): until a server has validated its
/// peer's address — by a Handshake packet, a Retry token, or a PATH_RESPONSE on a new path — it
/// sends at most three times what it received from that address, so that a spoofed source cannot
/// turn it into an amplifier. A client's peer address needs no validation.
/// </summary>
/// <param name="validated">Whether the address is validated from the start (a client, or a server that received a valid token).</param>
internal sealed class AmplificationLimit(bool validated)
{
    private long _received;
    private long _sent;

    /// <summary>Whether the peer's current address is validated, which lifts the limit.</summary>
    public bool AddressValidated { get; private set; } = validated;

    /// <summary>Octets that may still be sent to the peer's address.</summary>
    public long Allowance => AddressValidated ? long.MaxValue : (3 * _received) - _sent;

    /// <summary>Counts a datagram received from the peer's current address.</summary>
    public void OnReceived(long octets) => _received += octets;

    /// <summary>Counts octets sent to the peer's current address.</summary>
    public void OnSent(long octets) => _sent += octets;

    /// <summary>The address is validated.</summary>
    public void Validate() => AddressValidated = true;

    /// <summary>The peer moved to an address not yet validated: counting starts again from nothing (section 9.3).</summary>
    public void StartOver()
    {
        AddressValidated = false;
        _received = 0;
        _sent = 0;
    }
}
