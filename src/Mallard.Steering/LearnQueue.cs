using System.Runtime.InteropServices;
using Mallard.Steering.Bpf;

namespace Mallard.Steering;

/// <summary>
/// The XDP program's queue of frames whose encrypted connection ID it could not decide
/// (<c>steer_learn_queue</c>, a BPF ring buffer; <c>struct learn_sample</c> in
/// mallard_steer.bpf.c): each record is the frame's length, how much was copied, and the copy.
/// <see cref="Poll"/> hands each frame to the handler given at creation, on the polling thread.
/// </summary>
internal sealed unsafe class LearnQueue : IDisposable
{
    /// <summary>MAX_SAMPLE_FRAME in mallard_steer.bpf.c.</summary>
    public const int MaxFrame = 2048;

    private readonly nint _ring;
    private readonly GCHandle _self;
    private readonly FrameHandler _handler;

    /// <summary>Called with a frame's copy (writable, owned by the queue until it returns) and the frame's whole length.</summary>
    public delegate void FrameHandler(Span<byte> frame, int frameLength);

    public LearnQueue(int mapFd, FrameHandler handler)
    {
        _handler = handler;
        _self = GCHandle.Alloc(this);
        _ring = Libbpf.ring_buffer__new(mapFd, &OnSample, GCHandle.ToIntPtr(_self), null);
        if (_ring == 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            _self.Free();
            throw new SteeringException($"cannot read the XDP program's learning queue: {Marshal.GetPInvokeErrorMessage(errno)}");
        }
    }

    /// <summary>Waits up to <paramref name="timeout"/> for frames and handles them all.</summary>
    public void Poll(TimeSpan timeout) => Libbpf.ring_buffer__poll(_ring, (int)timeout.TotalMilliseconds);

    public void Dispose()
    {
        Libbpf.ring_buffer__free(_ring);
        _self.Free();
    }

    // The record lies in the ring's read-only pages: copied out before anyone rewrites it.
    [UnmanagedCallersOnly]
    private static int OnSample(nint context, byte* data, nuint size)
    {
        if (size < 8)
        {
            return 0;
        }

        var queue = (LearnQueue)GCHandle.FromIntPtr(context).Target!;
        int length = *(int*)data;
        int copied = Math.Min(*(int*)(data + 4), Math.Min(MaxFrame, (int)size - 8));
        if (copied <= 0)
        {
            return 0;
        }

        Span<byte> frame = stackalloc byte[MaxFrame];
        new ReadOnlySpan<byte>(data + 8, copied).CopyTo(frame);
        try
        {
            queue._handler(frame[..copied], length);
        }
        catch (Exception failure) when (failure is not OutOfMemoryException)
        {
            // An exception must not unwind into libbpf; the frame is lost, its connection
            // learned at its next packet.
            queue.HandlerFailures++;
        }

        return 0;
    }

    /// <summary>Frames whose handling threw (never expected; counted instead of crashing).</summary>
    public long HandlerFailures { get; private set; }
}
