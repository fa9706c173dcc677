using System.Runtime.InteropServices;
using Mallard.Linux;

namespace Mallard.Quic.Hosting.Linux;

/// <summary>
/// The native message headers of a batch of datagrams for recvmmsg or sendmmsg: one
/// <c>mmsghdr</c>, one iovec over the datagram's slot and one address buffer per datagram, laid
/// out once. <see cref="BatchReceiver"/> and <see cref="BatchSender"/> differ only in where the
/// slots live and which way the datagrams go.
/// </summary>
internal sealed unsafe class MessageHeaders : IDisposable
{
    /// <summary>sizeof(struct sockaddr_storage).</summary>
    public const int AddressSize = 128;

    private readonly byte* _memory;
    private bool _disposed;

    /// <param name="count">Datagrams in the batch.</param>
    /// <param name="slots">Where datagram i lives: <paramref name="slots"/> + i × <paramref name="slotSize"/> (pinned or native).</param>
    /// <param name="slotSize">The largest datagram a slot holds.</param>
    public MessageHeaders(int count, byte* slots, int slotSize)
    {
        Count = count;
        SlotSize = slotSize;
        _memory = (byte*)NativeMemory.AllocZeroed((nuint)(count * (sizeof(LinuxNative.MMsgHdr) + sizeof(LinuxNative.IoVec) + AddressSize)));
        Headers = (LinuxNative.MMsgHdr*)_memory;
        var vectors = (LinuxNative.IoVec*)(Headers + count);
        byte* names = (byte*)(vectors + count);
        for (int i = 0; i < count; i++)
        {
            vectors[i].Base = slots + (i * slotSize);
            Headers[i].Iov = &vectors[i];
            Headers[i].IovLength = 1;
            Headers[i].Name = names + (i * AddressSize);
        }
    }

    public int Count { get; }

    public int SlotSize { get; }

    public LinuxNative.MMsgHdr* Headers { get; }

    /// <summary>Makes every header ready to receive a whole slot and any address.</summary>
    public void PrepareReceive()
    {
        for (int i = 0; i < Count; i++)
        {
            Headers[i].NameLength = AddressSize;
            Headers[i].Iov->Length = (nuint)SlotSize;
            Headers[i].Flags = 0;
        }
    }

    /// <summary>The address of datagram <paramref name="index"/>, as long as the kernel or <see cref="SetAddress"/> wrote it.</summary>
    public ReadOnlySpan<byte> Address(int index) => new(Headers[index].Name, (int)Headers[index].NameLength);

    public void SetAddress(int index, ReadOnlySpan<byte> name)
    {
        name.CopyTo(new Span<byte>(Headers[index].Name, AddressSize));
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
