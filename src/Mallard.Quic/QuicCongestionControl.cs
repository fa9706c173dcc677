namespace Mallard.Quic;

/// <summary>The congestion controller a connection sends with; both pace and use HyStart++ (RFC 9406) in slow start.</summary>
public enum QuicCongestionControl
{
    /// <summary>CUBIC (RFC 9438), as in Linux, quic-go and quinn: fills long fat paths quickly and probes gently near the last limit.</summary>
    Cubic,

    /// <summary>NewReno (RFC 9002 section 7): halves on loss and grows one datagram per round trip.</summary>
    NewReno,
}
