namespace Mallard.Quic.Recovery;

/// <summary>
/// What loss detection remembers of one sent packet (RFC 9002 appendix A.1.1). Reused through a
/// <see cref="SentPacketPool"/> once acknowledged, lost or forgotten, so that sending allocates
/// nothing per packet: the frames live in an array that grows to the largest count seen and stays.
/// </summary>
internal sealed class SentPacket
{
    private SentFrame[] _frames = [];
    private int _frameCount;

    /// <summary>An empty packet for a pool to fill with <see cref="Reset"/>.</summary>
    public SentPacket()
    {
    }

    /// <summary>A packet with no frames (tests of loss detection on its own).</summary>
    public SentPacket(ulong number, long timeSent, int size, bool ackEliciting, bool inFlight) => Reset(number, timeSent, size, ackEliciting, inFlight, mtuProbe: false, []);

    /// <summary>The packet number.</summary>
    public ulong Number { get; private set; }

    /// <summary>When it was sent, in microseconds.</summary>
    public long TimeSent { get; private set; }

    /// <summary>Its size in octets (counted in flight when <see cref="InFlight"/>).</summary>
    public int Size { get; private set; }

    /// <summary>Whether it carries a frame other than ACK, PADDING or CONNECTION_CLOSE.</summary>
    public bool AckEliciting { get; private set; }

    /// <summary>Whether it counts towards bytes in flight.</summary>
    public bool InFlight { get; private set; }

    /// <summary>
    /// A path MTU probe (RFC 9000 section 14.4): its loss says the path is too narrow for it, not
    /// that the path is congested, so it causes no congestion response.
    /// </summary>
    public bool MtuProbe { get; private set; }

    /// <summary>Whether it waits in a <see cref="SentPacketPool"/> (describing no packet).</summary>
    public bool Pooled { get; set; }

    /// <summary>The frames it carried that matter once it is acknowledged or lost (RFC 9000 section 13.3).</summary>
    public ReadOnlySpan<SentFrame> Frames => _frames.AsSpan(0, _frameCount);

    /// <summary>Describes a newly sent packet, copying <paramref name="frames"/>.</summary>
    public void Reset(ulong number, long timeSent, int size, bool ackEliciting, bool inFlight, bool mtuProbe, ReadOnlySpan<SentFrame> frames)
    {
        Number = number;
        TimeSent = timeSent;
        Size = size;
        AckEliciting = ackEliciting;
        InFlight = inFlight;
        MtuProbe = mtuProbe;
        if (frames.Length > _frames.Length)
        {
            _frames = new SentFrame[Math.Max(4, (int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)frames.Length))];
        }

        frames.CopyTo(_frames);
        _frameCount = frames.Length;
    }
}
