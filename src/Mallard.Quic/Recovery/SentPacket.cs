namespace Mallard.Quic.Recovery;

/// <summary>What loss detection remembers of one sent packet (RFC 9002 appendix A.1.1).</summary>
/// <param name="Number">The packet number.</param>
/// <param name="TimeSent">When it was sent, in microseconds.</param>
/// <param name="Size">Its size in octets (counted in flight when <paramref name="InFlight"/>).</param>
/// <param name="AckEliciting">Whether it carries a frame other than ACK, PADDING or CONNECTION_CLOSE.</param>
/// <param name="InFlight">Whether it counts towards bytes in flight.</param>
internal sealed record SentPacket(ulong Number, long TimeSent, int Size, bool AckEliciting, bool InFlight)
{
    /// <summary>
    /// The frames it carried that matter once it is acknowledged or lost (RFC 9000 section 13.3).
    /// An array, not an interface, so that walking it allocates no enumerator per packet.
    /// </summary>
    public SentFrame[] Frames { get; init; } = [];

    /// <summary>
    /// A path MTU probe (RFC 9000 section 14.4): its loss says the path is too narrow for it, not
    /// that the path is congested, so it causes no congestion response.
    /// </summary>
    public bool MtuProbe { get; init; }
}
