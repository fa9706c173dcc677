namespace Mallard.Quic;

/// <summary>The fate of a sent datagram, as far as QUIC can tell (RFC 9221 section 5.2).</summary>
public enum QuicDatagramDelivery
{
    /// <summary>The packet that carried it was acknowledged: the peer received it.</summary>
    Acknowledged,

    /// <summary>Its packet was declared lost, or it was never sent before the connection ended. It is not retransmitted.</summary>
    Lost,

    /// <summary>It waited in the send queue longer than its maximum age and was dropped unsent (<see cref="QuicConnectionOptions.DatagramMaxAge"/>).</summary>
    Expired,
}
