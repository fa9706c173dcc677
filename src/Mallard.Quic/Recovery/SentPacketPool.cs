namespace Mallard.Quic.Recovery;

/// <summary>
/// The <see cref="SentPacket"/> records one connection reuses. Sends take one, and loss
/// detection gives it back once the packet is acknowledged, declared lost or forgotten, so a
/// connection in steady state allocates none. The connection calls <see cref="Trim"/> once it has
/// had nothing in flight for a while, so that one that once had a large window in flight does
/// not keep its records while idle.
/// </summary>
internal sealed class SentPacketPool
{
    /// <summary>
    /// Records kept at most while busy. Keeping a returned record never raises the connection's
    /// peak memory (a record is made only when none waits here, so those waiting plus those in
    /// flight never exceed the most that were ever in flight at once); this only bounds a bug.
    /// </summary>
    public const int Capacity = 16_384;

    /// <summary>
    /// Records an idle connection keeps: enough that a request and its answer, sent after a
    /// pause, need no new ones, and no more than a few kilobytes.
    /// </summary>
    public const int IdleCapacity = 32;

    private readonly Stack<SentPacket> _free = new();

    /// <summary>Records waiting to be reused.</summary>
    public int Count => _free.Count;

    public SentPacket Rent()
    {
        if (!_free.TryPop(out SentPacket? packet))
        {
            return new SentPacket();
        }

        packet.Pooled = false;
        return packet;
    }

    /// <summary>Takes a record back; one already here is not taken twice, so it can never describe two packets at once.</summary>
    public void Return(SentPacket packet)
    {
        System.Diagnostics.Debug.Assert(!packet.Pooled, "a sent-packet record was returned twice");
        if (packet.Pooled || _free.Count >= Capacity)
        {
            return;
        }

        packet.Pooled = true;
        _free.Push(packet);
    }

    /// <summary>Keeps at most <see cref="IdleCapacity"/> records.</summary>
    public void Trim()
    {
        while (_free.Count > IdleCapacity)
        {
            _free.Pop();
        }
    }
}
