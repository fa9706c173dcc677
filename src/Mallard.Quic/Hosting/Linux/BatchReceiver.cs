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

    /// <summary>sizeof(struct sockaddr_storage).</summary>
    private const int AddressSize = 128;

    /// <summary>MSG_TRUNC in msg_flags: the datagram was longer than its buffer.</summary>
    private const int MsgTrunc = 0x20;

    private readonly byte* _memory;
    private readonly LinuxNative.MMsgHdr* _headers;
    private readonly byte* _names;
    private readonly byte* _data;
    private bool _disposed;

    public BatchReceiver(int slotSize)
    {
        SlotSize = slotSize;
        nuint length = (nuint)(BatchSize * (sizeof(LinuxNative.MMsgHdr) + sizeof(LinuxNative.IoVec) + AddressSize + slotSize));
        _memory = (byte*)NativeMemory.AllocZeroed(length);
        _headers = (LinuxNative.MMsgHdr*)_memory;
        var vectors = (LinuxNative.IoVec*)(_headers + BatchSize);
        _names = (byte*)(vectors + BatchSize);
        _data = _names + (BatchSize * AddressSize);
        for (int i = 0; i < BatchSize; i++)
        {
            vectors[i].Base = _data + (i * slotSize);
            _headers[i].Iov = &vectors[i];
            _headers[i].IovLength = 1;
        }
    }

    /// <summary>The largest datagram a slot holds.</summary>
    public int SlotSize { get; }

    /// <summary>Datagrams dropped because they did not fit a slot.</summary>
    public long Truncated { get; private set; }

    /// <summary>Whether this process may read in batches (Linux on x86-64 or arm64, unless MALLARD_QUIC_PORTABLE_IO=1).</summary>
    public static bool IsSupported => LinuxNative.IsSupported && Environment.GetEnvironmentVariable("MALLARD_QUIC_PORTABLE_IO") != "1";

    /// <summary>
    /// Reads what <paramref name="socket"/> holds without waiting, up to <see cref="BatchSize"/>
    /// datagrams, and hands each to <paramref name="deliver"/> with its source in
    /// <paramref name="address"/> (reused). Returns how many were read; 0 when none waited.
    /// </summary>
    public int Receive(Socket socket, SocketAddress address, DatagramHandler deliver)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        bool added = false;
        int count;
        try
        {
            socket.SafeHandle.DangerousAddRef(ref added);
            for (int i = 0; i < BatchSize; i++)
            {
                _headers[i].Name = _names + (i * AddressSize);
                _headers[i].NameLength = AddressSize;
                _headers[i].Iov->Length = (nuint)SlotSize;
                _headers[i].Flags = 0;
            }

            count = LinuxNative.recvmmsg((int)socket.SafeHandle.DangerousGetHandle(), _headers, BatchSize, LinuxNative.MsgDontWait, null);
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
        for (int i = 0; i < count; i++)
        {
            if ((_headers[i].Flags & MsgTrunc) != 0)
            {
                Truncated++;
                continue;
            }

            int nameLength = (int)Math.Min(_headers[i].NameLength, (uint)addressBuffer.Length);
            new ReadOnlySpan<byte>(_names + (i * AddressSize), nameLength).CopyTo(addressBuffer);
            address.Size = nameLength;
            deliver(address, new Span<byte>(_data + (i * SlotSize), (int)_headers[i].Length));
        }

        return count;
    }

    public void Dispose()
    {
        if (!_disposed)
        {
            _disposed = true;
            NativeMemory.Free(_memory);
        }
    }

    /// <summary>Takes one received datagram; the span is valid only during the call.</summary>
    public delegate void DatagramHandler(SocketAddress source, Span<byte> datagram);
}
