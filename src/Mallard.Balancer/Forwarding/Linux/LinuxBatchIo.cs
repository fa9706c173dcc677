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
    public const int AddressSize = 128;
    public const int MaxEvents = 64;

    private readonly int _slotSize;
    private readonly byte* _memory;
    private readonly nuint _memoryLength;
    private readonly byte* _receiveNames;
    private bool _disposed;

    public LinuxBatchIo(int slotSize)
    {
        _slotSize = slotSize;
        EpollFd = LinuxNative.epoll_create1(0);
        if (EpollFd < 0)
        {
            throw new SocketException(Marshal.GetLastPInvokeError());
        }

        int headers = BatchSize * sizeof(LinuxNative.MMsgHdr);
        int vectors = BatchSize * sizeof(LinuxNative.IoVec);
        _memoryLength = (nuint)((2 * (headers + vectors + (BatchSize * AddressSize) + (BatchSize * slotSize))) + (MaxEvents * 16));
        _memory = (byte*)NativeMemory.AllocZeroed(_memoryLength);
        byte* next = _memory;
        ReceiveHeaders = Take<LinuxNative.MMsgHdr>(ref next, BatchSize);
        ReplyHeaders = Take<LinuxNative.MMsgHdr>(ref next, BatchSize);
        LinuxNative.IoVec* receiveVectors = Take<LinuxNative.IoVec>(ref next, BatchSize);
        LinuxNative.IoVec* replyVectors = Take<LinuxNative.IoVec>(ref next, BatchSize);
        byte* receiveNames = next;
        _receiveNames = receiveNames;
        next += BatchSize * AddressSize;
        ReplyNames = next;
        next += BatchSize * AddressSize;
        ReceiveData = next;
        next += BatchSize * slotSize;
        ReplyData = next;
        next += BatchSize * slotSize;
        Events = next;
        for (int i = 0; i < BatchSize; i++)
        {
            receiveVectors[i].Base = ReceiveData + (i * slotSize);
            replyVectors[i].Base = ReplyData + (i * slotSize);
            ReceiveHeaders[i].Iov = &receiveVectors[i];
            ReceiveHeaders[i].IovLength = 1;
            ReceiveHeaders[i].Name = receiveNames + (i * AddressSize);
            ReplyHeaders[i].Iov = &replyVectors[i];
            ReplyHeaders[i].IovLength = 1;
        }
    }

    public int EpollFd { get; }

    /// <summary>Sends runs of datagrams with one destination, with GSO while the kernel takes it.</summary>
    public SegmentedSender Sender { get; } = new(BatchSize);

    /// <summary>Which recvmmsg each reply slot came from: replies of one group share a client address.</summary>
    public int[] ReplyGroups { get; } = new int[BatchSize];

    public int SlotSize => _slotSize;

    public LinuxNative.MMsgHdr* ReceiveHeaders { get; }

    public LinuxNative.MMsgHdr* ReplyHeaders { get; }

    public byte* ReceiveData { get; }

    public byte* ReplyData { get; }

    public byte* ReplyNames { get; }

    public byte* Events { get; }

    /// <summary>Makes every receive slot ready for the next recvmmsg.</summary>
    public void ResetReceive()
    {
        for (int i = 0; i < BatchSize; i++)
        {
            ReceiveHeaders[i].Name = _receiveNames + (i * AddressSize);
            ReceiveHeaders[i].NameLength = AddressSize;
            ReceiveHeaders[i].Iov->Length = (nuint)_slotSize;
            ReceiveHeaders[i].Flags = 0;
        }
    }

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
            NativeMemory.Free(_memory);
        }
    }

    private static T* Take<T>(ref byte* next, int count)
        where T : unmanaged
    {
        T* start = (T*)next;
        next += count * sizeof(T);
        return start;
    }
}
