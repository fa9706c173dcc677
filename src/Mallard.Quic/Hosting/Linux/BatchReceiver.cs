using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Mallard.Linux;

namespace Mallard.Quic.Hosting.Linux;

/// <summary>
/// Reads the datagrams waiting on a UDP socket with one recvmmsg (Linux) instead of a FIONREAD and
/// a recvfrom each: up to <see cref="BatchSize"/> messages per system call, into native slots of
/// <see cref="SlotSize"/> octets. With <see cref="TryEnableCoalescing"/> (UDP GRO) the kernel joins
/// a run of same-sized datagrams from one source into one message and says their size in a control
/// message; such a message is cut back into its datagrams here, so a burst costs the kernel one
/// buffer instead of one per datagram. A datagram larger than a slot (a peer that ignored the
/// max_udp_payload_size this endpoint advertised) arrives truncated and is dropped and counted.
/// Used by one thread at a time, under the host's lock.
/// </summary>
internal sealed unsafe class BatchReceiver : IDisposable
{
    public const int BatchSize = 32;

    /// <summary>The largest message GRO makes (the largest UDP payload).</summary>
    public const int CoalescedMessageSize = 65_535;

    /// <summary>MSG_TRUNC in msg_flags: the datagram was longer than its buffer.</summary>
    private const int MsgTrunc = 0x20;

    private readonly byte* _data;
    private readonly byte* _overflow;
    private readonly nuint _overflowBytes;
    private long _overflowUsedAt = -1;

    /// <summary>Per message, how far into its overflow area a burst has written since the pages were last given back.</summary>
    private readonly int[] _overflowWritten = new int[BatchSize];
    private readonly byte[] _straddling = [];
    private readonly MessageHeaders _messages;
    private bool _disposed;

    /// <param name="slotSize">The largest datagram to read: the max_udp_payload_size this endpoint advertised.</param>
    /// <param name="coalescing">
    /// Whether the socket has UDP GRO on (<see cref="TryEnableCoalescing"/>): each message then
    /// continues from its slot into an overflow area, up to 64 KiB, and carries its segment size.
    /// </param>
    public BatchReceiver(int slotSize, bool coalescing = false)
    {
        Coalescing = coalescing;

        // Native memory is committed only where the kernel writes. Small datagrams (acknowledgements,
        // which GRO rarely joins) land in the dense slots, 32 of them in a dozen pages; only a burst
        // that GRO joined reaches the overflow area, up to 2 MiB. (One 64 KiB slot per message made
        // every endpoint keep 32 pages, 128 KB, for its acknowledgements alone; eight such slots read
        // a quic-go client's ACKs eight at a time and cost its download a fifth of its rate.)
        _data = (byte*)NativeMemory.Alloc((nuint)(BatchSize * slotSize));
        int overflowSize = coalescing ? CoalescedMessageSize - slotSize : 0;
        if (overflowSize > 0)
        {
            // Page-aligned, so that its pages can be given back while idle (ReleaseIdleOverflow).
            _overflowBytes = (nuint)(BatchSize * overflowSize);
            _overflow = (byte*)NativeMemory.AlignedAlloc(_overflowBytes, (nuint)LinuxNative.PageSize);
            _straddling = new byte[slotSize];
        }

        _messages = new MessageHeaders(BatchSize, _data, slotSize, withControl: coalescing, _overflow, overflowSize);
    }

    /// <summary>Whether messages may hold several datagrams (UDP GRO).</summary>
    public bool Coalescing { get; }

    /// <summary>Datagrams that arrived joined with others in one message.</summary>
    public long CoalescedDatagrams { get; private set; }

    /// <summary>
    /// Turns UDP GRO on for <paramref name="socket"/>; false where the kernel refuses it (before
    /// Linux 5.0). Every read from the socket must then go through a <see cref="BatchReceiver"/>
    /// made with coalescing, which alone knows where the joined datagrams end.
    /// </summary>
    public static bool TryEnableCoalescing(Socket socket)
    {
        try
        {
            socket.SetRawSocketOption(LinuxNative.SolUdp, LinuxNative.UdpGro, BitConverter.GetBytes(1));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>The largest datagram a slot holds.</summary>
    public int SlotSize => _messages.SlotSize;

    /// <summary>Receivers whose hosts are done, kept for the next host (a client makes one per connection).</summary>
    private static readonly IdlePool<BatchReceiver> s_idle = new(16);

    /// <summary>An idle receiver of this shape if one is kept, else a new one; give it back with <see cref="Return"/>.</summary>
    public static BatchReceiver Rent(int slotSize, bool coalescing) =>
        s_idle.TryTake((slotSize, coalescing), static (receiver, shape) => receiver.SlotSize == shape.slotSize && receiver.Coalescing == shape.coalescing)
        ?? new BatchReceiver(slotSize, coalescing);

    /// <summary>
    /// Called when the host that read with this receiver is done (nothing reads into it any more):
    /// the overflow pages a burst wrote go back to the kernel at once unless they are a few
    /// (<see cref="KeptOverflowPages"/>), and the receiver is kept for reuse (the oldest one kept
    /// is disposed when the pool is full).
    /// </summary>
    public void Return()
    {
        if (_disposed)
        {
            return;
        }

        // A handshake's coalesced flight touches a page or two; giving those back would cost a TLB
        // shootdown on every CPU per connection. A download's burst is worth giving back.
        if (OverflowPagesWritten > KeptOverflowPages)
        {
            ReleaseOverflow();
        }

        s_idle.Keep(this)?.Dispose();
    }

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
            count = LinuxNative.recvmmsg((int)socket.SafeHandle.DangerousGetHandle(), _messages.Headers, (uint)_messages.Count, LinuxNative.MsgDontWait, null);
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
            byte* slot = _data + (i * SlotSize);
            byte* overflow = _overflow + (i * _messages.OverflowSize);
            int length = (int)headers[i].Length;
            int segment = Coalescing ? _messages.SegmentSize(i) : 0;
            if (segment <= 0 || segment >= length)
            {
                if (length > SlotSize)
                {
                    oversized++; // one datagram larger than this endpoint advertised
                    continue;
                }

                name.CopyTo(addressBuffer);
                address.Size = name.Length;
                deliver(address, new Span<byte>(slot, length));
                continue;
            }

            // GRO joined datagrams of `segment` octets (the last may be shorter), from the slot on into
            // the overflow area: one each, the one that straddles the two copied together first.
            if (length > SlotSize)
            {
                _overflowUsedAt = HostClock.Now;
                _overflowWritten[i] = Math.Max(_overflowWritten[i], length - SlotSize);
            }

            for (int offset = 0; offset < length; offset += segment)
            {
                int size = Math.Min(segment, length - offset);
                Span<byte> datagram;
                if (offset + size <= SlotSize)
                {
                    datagram = new Span<byte>(slot + offset, size);
                }
                else if (offset >= SlotSize)
                {
                    datagram = new Span<byte>(overflow + (offset - SlotSize), size);
                }
                else if (size <= _straddling.Length)
                {
                    int inSlot = SlotSize - offset;
                    new Span<byte>(slot + offset, inSlot).CopyTo(_straddling);
                    new Span<byte>(overflow, size - inSlot).CopyTo(_straddling.AsSpan(inSlot));
                    datagram = _straddling.AsSpan(0, size);
                }
                else
                {
                    oversized++; // joined datagrams each larger than this endpoint advertised
                    continue;
                }

                name.CopyTo(addressBuffer); // the handler may have reused the address
                address.Size = name.Length;
                deliver(address, datagram);
                CoalescedDatagrams++;
            }
        }

        return count;
    }

    /// <summary>
    /// When the overflow area holds pages that a GRO burst wrote and that nothing has written for
    /// <see cref="OverflowIdleTime"/>: the time (on <see cref="HostClock"/>) to give them back; null otherwise.
    /// </summary>
    public long? OverflowReleaseDue => _overflowUsedAt >= 0 ? _overflowUsedAt + OverflowIdleTime : null;

    /// <summary>How many overflow pages an idle receiver in the pool may keep (16 of them keep at most 1 MiB).</summary>
    public const int KeptOverflowPages = 16;

    /// <summary>The overflow pages written since they were last given back (an upper bound of what is resident).</summary>
    public int OverflowPagesWritten
    {
        get
        {
            int pages = 0;
            foreach (int written in _overflowWritten)
            {
                pages += (written + LinuxNative.PageSize - 1) / LinuxNative.PageSize;
            }

            return pages;
        }
    }

    /// <summary>How long, in microseconds, the overflow area goes unused before its pages are given back.</summary>
    public const long OverflowIdleTime = 1_000_000;

    /// <summary>
    /// Gives the overflow area's pages back to the kernel once it has gone unused for
    /// <see cref="OverflowIdleTime"/>: a connection that downloaded something keeps up to 2 MiB
    /// there otherwise, for as long as it lives. The next burst faults them in again. Call
    /// between receives (under the host's lock).
    /// </summary>
    public void ReleaseIdleOverflow(long now)
    {
        if (OverflowReleaseDue is not long due || now < due || _disposed)
        {
            return;
        }

        ReleaseOverflow();
    }

    private void ReleaseOverflow()
    {
        _overflowUsedAt = -1;
        Array.Clear(_overflowWritten);
        nuint pages = _overflowBytes & ~(nuint)(LinuxNative.PageSize - 1);
        if (LinuxNative.madvise(_overflow, pages, LinuxNative.MAdvDontNeed) == 0)
        {
            OverflowReleases++;
        }
    }

    /// <summary>Times the overflow area's pages were given back.</summary>
    public long OverflowReleases { get; private set; }

    public void Dispose()
    {
        if (!_disposed)
        {
            _disposed = true;
            _messages.Dispose();
            NativeMemory.Free(_data);
            NativeMemory.AlignedFree(_overflow);
        }
    }

    /// <summary>Takes one received datagram; the span is valid only during the call.</summary>
    public delegate void DatagramHandler(SocketAddress source, Span<byte> datagram);
}
