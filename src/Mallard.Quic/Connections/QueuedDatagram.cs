namespace Mallard.Quic.Connections;

/// <summary>A datagram waiting to be sent.</summary>
/// <param name="Buffer">A pooled copy of the payload.</param>
/// <param name="Length">The payload's length.</param>
/// <param name="Id">Its tracking number, or 0 when untracked.</param>
/// <param name="Deadline">When it expires unsent, on the connection's clock; long.MaxValue for never.</param>
internal readonly record struct QueuedDatagram(byte[] Buffer, int Length, ulong Id, long Deadline)
{
    /// <summary>The payload.</summary>
    public ReadOnlySpan<byte> Payload => Buffer.AsSpan(0, Length);
}
