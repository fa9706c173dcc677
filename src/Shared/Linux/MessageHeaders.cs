using System.Runtime.InteropServices;

namespace Mallard.Linux;

/// <summary>
/// The native message headers of a batch of datagrams for recvmmsg or sendmmsg: one
/// <c>mmsghdr</c>, one iovec over the datagram's slot and one address buffer per datagram, laid
/// out once. Mallard.Quic's batch receiver and sender and the balancer's forwarding threads differ
/// only in where the slots live and which way the datagrams go. One source file compiled into each.
/// </summary>
internal sealed unsafe class MessageHeaders : IDisposable
{
    /// <summary>sizeof(struct sockaddr_storage).</summary>
    public const int AddressSize = 128;

    /// <summary>CMSG_SPACE(sizeof(int)) on LP64: room for the one control message a GRO read carries.</summary>
    public const int ControlSize = 24;

    private readonly byte* _memory;
    private readonly byte* _control;
    private readonly byte* _names;
    private bool _disposed;

    /// <param name="count">Datagrams in the batch.</param>
    /// <param name="slots">Where datagram i lives: <paramref name="slots"/> + i × <paramref name="slotSize"/> (pinned or native).</param>
    /// <param name="slotSize">The largest datagram a slot holds.</param>
    /// <param name="withControl">Whether each message gets room for a control message (the segment size of a GRO read).</param>
    /// <param name="overflow">
    /// For a GRO read: a second area where a message longer than its slot continues (message i
    /// at <paramref name="overflow"/> + i × <paramref name="overflowSize"/>), so that small datagrams
    /// touch only the dense slots; null for one slot per message.
    /// </param>
    /// <param name="overflowSize">The overflow each message may use.</param>
    public MessageHeaders(int count, byte* slots, int slotSize, bool withControl = false, byte* overflow = null, int overflowSize = 0)
    {
        Count = count;
        SlotSize = slotSize;
        OverflowSize = overflow is null ? 0 : overflowSize;
        int vectorsPerMessage = overflow is null ? 1 : 2;
        int controlSize = withControl ? ControlSize : 0;
        _memory = (byte*)NativeMemory.AllocZeroed((nuint)(count * (sizeof(LinuxNative.MMsgHdr) + (vectorsPerMessage * sizeof(LinuxNative.IoVec)) + AddressSize + controlSize)));
        Headers = (LinuxNative.MMsgHdr*)_memory;
        var vectors = (LinuxNative.IoVec*)(Headers + count);
        byte* names = (byte*)(vectors + (vectorsPerMessage * count));
        _names = names;
        _control = withControl ? names + (count * AddressSize) : null;
        for (int i = 0; i < count; i++)
        {
            LinuxNative.IoVec* first = &vectors[i * vectorsPerMessage];
            first->Base = slots + (i * slotSize);
            if (overflow is not null)
            {
                first[1].Base = overflow + (i * overflowSize);
            }

            Headers[i].Iov = first;
            Headers[i].IovLength = (nuint)vectorsPerMessage;
            Headers[i].Name = names + (i * AddressSize);
        }
    }

    public int Count { get; }

    public int SlotSize { get; }

    /// <summary>The overflow a message may continue into beyond its slot (0: none).</summary>
    public int OverflowSize { get; }

    public LinuxNative.MMsgHdr* Headers { get; }

    /// <summary>Makes every header ready to receive a whole slot and any address.</summary>
    public void PrepareReceive()
    {
        for (int i = 0; i < Count; i++)
        {
            Headers[i].Name = _names + (i * AddressSize);
            Headers[i].NameLength = AddressSize;
            Headers[i].Iov->Length = (nuint)SlotSize;
            if (OverflowSize > 0)
            {
                Headers[i].Iov[1].Length = (nuint)OverflowSize;
            }

            Headers[i].Flags = 0;
            if (_control is not null)
            {
                Headers[i].Control = _control + (i * ControlSize);
                Headers[i].ControlLength = ControlSize;
            }
        }
    }

    /// <summary>
    /// The size of the datagrams GRO joined into message <paramref name="index"/> (its UDP_GRO
    /// control message), or 0 when the message is one datagram.
    /// </summary>
    public int SegmentSize(int index)
    {
        LinuxNative.MMsgHdr* header = &Headers[index];
        if (header->Control is null || header->ControlLength < (nuint)(sizeof(LinuxNative.CMsgHdr) + sizeof(int)))
        {
            return 0;
        }

        var message = (LinuxNative.CMsgHdr*)header->Control;
        return message->Level == LinuxNative.SolUdp && message->Type == LinuxNative.UdpGro && message->Length >= (nuint)(sizeof(LinuxNative.CMsgHdr) + sizeof(int))
            ? *(int*)((byte*)message + sizeof(LinuxNative.CMsgHdr))
            : 0;
    }

    /// <summary>The address buffer of datagram <paramref name="index"/> (<see cref="AddressSize"/> octets), wherever its header points now.</summary>
    public byte* NameBuffer(int index) => _names + (index * AddressSize);

    /// <summary>The address of datagram <paramref name="index"/>, as long as the kernel or <see cref="SetAddress"/> wrote it.</summary>
    public ReadOnlySpan<byte> Address(int index) => new(Headers[index].Name, (int)Headers[index].NameLength);

    /// <summary>Datagram <paramref name="index"/> goes to <paramref name="name"/> (a sockaddr, copied into its buffer).</summary>
    public void SetAddress(int index, ReadOnlySpan<byte> name)
    {
        name.CopyTo(new Span<byte>(NameBuffer(index), AddressSize));
        Headers[index].Name = NameBuffer(index);
        Headers[index].NameLength = (uint)name.Length;
    }

    public void Dispose()
    {
        if (!_disposed)
        {
            _disposed = true;
            NativeMemory.Free(_memory);
        }
    }
}
