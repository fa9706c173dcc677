using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Mallard.Linux;

namespace Mallard.Quic.Hosting.Linux;

/// <summary>
/// Reads the datagrams waiting on a UDP socket with one recvmmsg (Linux) instead of a FIONREAD and
/// a recvfrom each: up to <see cref="BatchSize"/> per system call, into native slots of
/// <see cref="SlotSize"/> octets. A datagram larger than a slot (a peer that ignored the
/// max_udp_payload_size this endpoint advertised) arrives truncated and is dropped and counted.
/// Used by one thread at a time, under the host's lock.
/// </summary>
internal sealed unsafe class BatchReceiver : IDisposable
{
    public const int BatchSize = 32;

    /// <summary>MSG_TRUNC in msg_flags: the datagram was longer than its buffer.</summary>
    private const int MsgTrunc = 0x20;

    private readonly byte* _data;
    private readonly MessageHeaders _messages;
    private bool _disposed;

    public BatchReceiver(int slotSize)
    {
        _data = (byte*)NativeMemory.Alloc((nuint)(BatchSize * slotSize));
        _messages = new MessageHeaders(BatchSize, _data, slotSize);
    }

    /// <summary>The largest datagram a slot holds.</summary>
    public int SlotSize => _messages.SlotSize;

    /// <summary>Whether this process may read in batches (Linux on x86-64 or arm64, unless MALLARD_QUIC_PORTABLE_IO=1).</summary>
    public static bool IsSupported => LinuxNative.IsSupported && Environment.GetEnvironmentVariable("MALLARD_QUIC_PORTABLE_IO") != "1";

    /// <summary>
    /// Reads what <paramref name="socket"/> holds without waiting, up to <see cref="BatchSize"/>
    /// datagrams, and hands each to <paramref name="deliver"/> with its source in
    /// <paramref name="address"/> (reused); <paramref name="oversized"/> counts those dropped because
    /// they did not fit a slot. Returns how many were read; 0 when none waited.
    /// </summary>
    public int Receive(Socket socket, SocketAddress address, DatagramHandler deliver, out int oversized)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        oversized = 0;
        bool added = false;
        int count;
        try
        {
            socket.SafeHandle.DangerousAddRef(ref added);
            _messages.PrepareReceive();
            count = LinuxNative.recvmmsg((int)socket.SafeHandle.DangerousGetHandle(), _messages.Headers, BatchSize, LinuxNative.MsgDontWait, null);
        }
        catch (ObjectDisposedException)
        {
            return 0; // the socket closed while the host was disposing
        }
        finally
        {
            if (added)
            {
                socket.SafeHandle.DangerousRelease();
            }
        }

        if (count <= 0)
        {
            return 0; // EAGAIN: nothing waited; an ICMP error or EINTR: the next read tries again
        }

        Span<byte> addressBuffer = address.Buffer.Span;
        LinuxNative.MMsgHdr* headers = _messages.Headers;
        for (int i = 0; i < count; i++)
        {
            if ((headers[i].Flags & MsgTrunc) != 0)
            {
                oversized++;
                continue;
            }

            ReadOnlySpan<byte> name = _messages.Address(i);
            name = name[..Math.Min(name.Length, addressBuffer.Length)];
            name.CopyTo(addressBuffer);
            address.Size = name.Length;
            deliver(address, new Span<byte>(_data + (i * SlotSize), (int)headers[i].Length));
        }

        return count;
    }

    public void Dispose()
    {
        if (!_disposed)
        {
            _disposed = true;
            _messages.Dispose();
            NativeMemory.Free(_data);
        }
    }

    /// <summary>Takes one received datagram; the span is valid only during the call.</summary>
    public delegate void DatagramHandler(SocketAddress source, Span<byte> datagram);
}
