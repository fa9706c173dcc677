using System.Net.Sockets;
using System.Runtime.InteropServices;
using Mallard.Linux;

namespace Mallard.Balancer.Forwarding.Linux;

/// <summary>
/// Native buffers of one forwarding thread for batched I/O: an epoll set, a receive batch for
/// client datagrams (with their source addresses) and a reply batch whose slots receive backend
/// datagrams and are then sent to clients in one sendmmsg, without copying the payload.
/// </summary>
internal sealed unsafe class LinuxBatchIo : IDisposable
{
    public const int BatchSize = 32;
    public const int AddressSize = MessageHeaders.AddressSize;
    public const int MaxEvents = 64;

    private readonly byte* _data;
    private readonly byte* _events;
    private readonly MessageHeaders _receive;
    private readonly MessageHeaders _reply;
    private bool _disposed;

    public LinuxBatchIo(int slotSize)
    {
        SlotSize = slotSize;
        EpollFd = LinuxNative.epoll_create1(0);
        if (EpollFd < 0)
        {
            throw new SocketException(Marshal.GetLastPInvokeError());
        }

        _data = (byte*)NativeMemory.AllocZeroed((nuint)(2 * BatchSize * slotSize));
        _events = (byte*)NativeMemory.AllocZeroed((nuint)(MaxEvents * 16));
        ReceiveData = _data;
        ReplyData = _data + (BatchSize * slotSize);
        _receive = new MessageHeaders(BatchSize, ReceiveData, slotSize);
        _reply = new MessageHeaders(BatchSize, ReplyData, slotSize);
    }

    public int EpollFd { get; }

    /// <summary>Sends runs of datagrams with one destination, with GSO while the kernel takes it.</summary>
    public SegmentedSender Sender { get; } = new(BatchSize);

    /// <summary>Which recvmmsg each reply slot came from: replies of one group share a client address.</summary>
    public int[] ReplyGroups { get; } = new int[BatchSize];

    public int SlotSize { get; }

    public LinuxNative.MMsgHdr* ReceiveHeaders => _receive.Headers;

    public LinuxNative.MMsgHdr* ReplyHeaders => _reply.Headers;

    public byte* ReceiveData { get; }

    public byte* ReplyData { get; }

    public byte* Events => _events;

    /// <summary>The address buffer of reply slot <paramref name="index"/> (<see cref="AddressSize"/> octets).</summary>
    public byte* ReplyName(int index) => _reply.NameBuffer(index);

    /// <summary>Makes every receive slot ready for the next recvmmsg.</summary>
    public void ResetReceive() => _receive.PrepareReceive();

    /// <summary>Watches <paramref name="fd"/> for input, tagged with <paramref name="tag"/>.</summary>
    public void Watch(int fd, ulong tag)
    {
        byte* buffer = stackalloc byte[16];
        *(uint*)buffer = LinuxNative.EpollIn;
        *(ulong*)(buffer + LinuxNative.EpollDataOffset) = tag;
        if (LinuxNative.epoll_ctl(EpollFd, LinuxNative.EpollCtlAdd, fd, buffer) != 0)
        {
            throw new SocketException(Marshal.GetLastPInvokeError());
        }
    }

    public ulong EventTag(int index) => *(ulong*)(Events + (index * LinuxNative.EpollEventSize) + LinuxNative.EpollDataOffset);

    public void Dispose()
    {
        if (!_disposed)
        {
            _disposed = true;
            Sender.Dispose();
            LinuxNative.close(EpollFd);
            _receive.Dispose();
            _reply.Dispose();
            NativeMemory.Free(_data);
            NativeMemory.Free(_events);
        }
    }
}
