using System.Buffers;

namespace Mallard.Quic.Connections;

/// <summary>
/// A received DATAGRAM payload waiting for the application, in a buffer rented from
/// <see cref="ArrayPool{T}.Shared"/>: a reader that copies it out and releases it leaves nothing
/// allocated per datagram.
/// </summary>
/// <param name="Buffer">The rented buffer; the payload is its first <paramref name="Length"/> octets.</param>
/// <param name="Length">The payload's length.</param>
internal readonly record struct ReceivedDatagram(byte[] Buffer, int Length)
{
    /// <summary>The payload.</summary>
    public ReadOnlySpan<byte> Payload => Buffer.AsSpan(0, Length);

    /// <summary>A pooled copy of <paramref name="payload"/>.</summary>
    public static ReceivedDatagram Copy(ReadOnlySpan<byte> payload)
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent(Math.Max(1, payload.Length));
        payload.CopyTo(buffer);
        return new ReceivedDatagram(buffer, payload.Length);
    }

    /// <summary>Gives the buffer back to the pool; the datagram must not be used after.</summary>
    public void Release() => ArrayPool<byte>.Shared.Return(Buffer);

    /// <summary>The payload as an array of its own, releasing the pooled buffer.</summary>
    public byte[] TakeArray()
    {
        byte[] payload = Payload.ToArray();
        Release();
        return payload;
    }
}
