using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Mallard.Linux;

namespace Mallard.Quic.Hosting.Linux;

/// <summary>
/// Collects up to <see cref="Capacity"/> datagrams the core wrote into pinned slots, then sends
/// them with as few system calls as the kernel allows: each run of datagrams to one destination
/// goes through the shared <see cref="SegmentedSender"/> (UDP GSO while the kernel takes it, else
/// one sendmmsg). A bulk sender's burst to one peer leaves in one call instead of one sendto per
/// packet. Used by one thread at a time, under the host's lock.
/// </summary>
internal sealed unsafe class BatchSender : IDisposable
{
    private readonly byte[] _slots;
    private readonly MessageHeaders _messages;
    private readonly SegmentedSender _sender;
    private readonly bool[] _standsAlone;
    private bool _disposed;

    public BatchSender(int capacity, int slotSize)
    {
        Capacity = capacity;
        SlotSize = slotSize;
        _slots = GC.AllocateArray<byte>(capacity * slotSize, pinned: true);
        _messages = new MessageHeaders(capacity, (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_slots)), slotSize);
        _sender = new SegmentedSender(capacity);
        _standsAlone = new bool[capacity];
    }

    /// <summary>Senders whose hosts are done, kept for the next host (a client makes one per connection).</summary>
    private static readonly IdlePool<BatchSender> s_idle = new(16);

    /// <summary>An idle sender of this shape if one is kept, else a new one; give it back with <see cref="Return"/>.</summary>
    public static BatchSender Rent(int capacity, int slotSize) =>
        s_idle.TryTake((capacity, slotSize), static (sender, shape) => sender.Capacity == shape.capacity && sender.SlotSize == shape.slotSize)
        ?? new BatchSender(capacity, slotSize);

    /// <summary>Called when the host that sent with this sender is done: kept for reuse (the oldest one kept is disposed when the pool is full).</summary>
    public void Return()
    {
        if (!_disposed)
        {
            s_idle.Keep(this)?.Dispose();
        }
    }

    /// <summary>How many datagrams one flush sends at most.</summary>
    public int Capacity { get; }

    /// <summary>The largest datagram a slot holds.</summary>
    public int SlotSize { get; }

    /// <summary>Datagrams the kernel refused (a full buffer, an unreachable peer): lost, as a dropped packet is.</summary>
    public long Failed { get; private set; }

    /// <summary>Whether GSO is still in use.</summary>
    public bool Segmenting => _sender.Enabled;

    /// <summary>Datagrams that left inside a GSO message of two or more.</summary>
    public long Segmented => _sender.SegmentedDatagrams;

    /// <summary>Where the core writes datagram <paramref name="index"/>.</summary>
    public Span<byte> Slot(int index) => _slots.AsSpan(index * SlotSize, SlotSize);

    /// <summary>
    /// Datagram <paramref name="index"/> is <paramref name="length"/> octets for <paramref name="destination"/>;
    /// a run to one destination that holds one that <paramref name="standsAlone"/> is sent unsegmented.
    /// </summary>
    public void Set(int index, int length, SocketAddress destination, bool standsAlone = false)
    {
        _standsAlone[index] = standsAlone;
        _messages.Headers[index].Iov->Length = (nuint)length;
        _messages.SetAddress(index, destination.Buffer.Span[..destination.Size]);
    }

    /// <summary>Sends datagrams [0, <paramref name="count"/>), each run with one destination in one go.</summary>
    public void Flush(Socket socket, int count)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        bool added = false;
        try
        {
            socket.SafeHandle.DangerousAddRef(ref added);
            int fd = (int)socket.SafeHandle.DangerousGetHandle();
            for (int run = 0; run < count;)
            {
                int end = run + 1;
                bool standsAlone = _standsAlone[run];
                while (end < count && SameDestination(run, end))
                {
                    standsAlone |= _standsAlone[end];
                    end++;
                }

                // A run with a datagram that stands alone goes as separate messages of one sendmmsg.
                SegmentedSender.SendOutcome outcome = _sender.Send(fd, &_messages.Headers[run], end - run, segment: !standsAlone);
                Failed += outcome.Failed;
                run = end;
            }
        }
        catch (ObjectDisposedException)
        {
            // The socket closed while the host was disposing: what was queued is lost, as on a dying path.
        }
        finally
        {
            if (added)
            {
                socket.SafeHandle.DangerousRelease();
            }
        }
    }

    public void Dispose()
    {
        if (!_disposed)
        {
            _disposed = true;
            _sender.Dispose();
            _messages.Dispose();
        }
    }

    private bool SameDestination(int a, int b) => _messages.Address(a).SequenceEqual(_messages.Address(b));
}
