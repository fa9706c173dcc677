using System.Net;
using System.Runtime.InteropServices;
using Mallard.Balancer.Routing;
using Mallard.Linux;

namespace Mallard.Balancer.Forwarding.Linux;

/// <summary>
/// The Linux data plane: one epoll set holds the listening socket and every flow this thread
/// opened. Client datagrams arrive up to 32 per recvmmsg; backend replies are read straight into
/// reply slots and leave in one sendmmsg per wake-up, as one GSO message where they allow.
/// Nothing is allocated per packet.
/// </summary>
internal sealed unsafe class BatchedWorker(System.Net.Sockets.Socket socket, FlowTable flows, RoutingState routing, string name, int maxDatagramSize)
    : ListenerWorker(socket, flows, routing, name, maxDatagramSize)
{
    private const ulong ListenTag = 0;
    private const ulong WakeTag = ulong.MaxValue;

    // Written to wake epoll_wait when the worker pauses or stops.
    private readonly int _wake = LinuxNative.eventfd(0, LinuxNative.EfdNonBlock | LinuxNative.EfdCloExec);

    private readonly Dictionary<ulong, Upstream> _owned = [];
    private readonly Upstream?[] _targets = new Upstream?[LinuxBatchIo.BatchSize];
    private LinuxBatchIo? _io;
    private ulong _nextTag = ListenTag + 1;
    private int _replyGroup;

    public override bool IsBatched => true;

    // The Linux data plane: one epoll set holds the listening socket and every flow this thread
    // opened. Client datagrams arrive up to 32 per recvmmsg; backend replies are read straight
    // into reply slots and leave in one sendmmsg per wake-up.
    protected override void Run()
    {
        // Slots hold the largest datagram relayed plus one octet to detect larger ones.
        int slotSize = (MaxDatagramSize + 1 + 63) & ~63;
        using var io = new LinuxBatchIo(slotSize);
        _io = io;

        // Hold the listening socket's descriptor for the life of the loop: Dispose may close the
        // socket at any moment, and its number must not be reused under a pending recvmmsg.
        bool held = false;
        try
        {
            Socket.SafeHandle.DangerousAddRef(ref held);
            RunLoop(io);
        }
        catch (ObjectDisposedException)
        {
            // Stopped before the loop began.
        }
        finally
        {
            if (held)
            {
                Socket.SafeHandle.DangerousRelease();
            }
        }
    }

    private void RunLoop(LinuxBatchIo io)
    {
        io.Watch((int)Socket.SafeHandle.DangerousGetHandle(), ListenTag);
        io.Watch(_wake, WakeTag);

        // Resumed after a pause: the flows this thread relayed before are watched again.
        foreach ((ulong tag, Upstream upstream) in _owned)
        {
            if (!upstream.IsClosed)
            {
                io.Watch((int)upstream.Socket.SafeHandle.DangerousGetHandle(), tag);
            }
        }

        TakeAdopted();
        var from = new SocketAddress(Socket.AddressFamily);
        long lastSweep = Flows.Now;
        while (!Stopping)
        {
            int ready = LinuxNative.epoll_wait(io.EpollFd, io.Events, LinuxBatchIo.MaxEvents, SweepIntervalMilliseconds);
            if (Stopping)
            {
                return;
            }

            int replies = 0;
            for (int e = 0; e < ready; e++)
            {
                ulong tag = io.EventTag(e);
                if (tag == ListenTag)
                {
                    ReceiveClients(io, from);
                }
                else if (tag == WakeTag)
                {
                    // A stale wake-up from before a pause: drained, so that it fires once.
                    ulong count;
                    LinuxNative.read(_wake, &count, sizeof(ulong));
                }
                else if (_owned.TryGetValue(tag, out Upstream? upstream))
                {
                    replies = ReceiveReplies(io, upstream, replies);
                }
            }

            FlushReplies(io, replies);
            long now = Flows.Now;
            if (now - lastSweep >= SweepIntervalMilliseconds)
            {
                lastSweep = now;
                Router.Sweep(now);
                foreach ((ulong tag, Upstream upstream) in _owned)
                {
                    if (upstream.IsClosed)
                    {
                        _owned.Remove(tag);
                    }
                }
            }
        }
    }

    private void ReceiveClients(LinuxBatchIo io, SocketAddress from)
    {
        int fd = (int)Socket.SafeHandle.DangerousGetHandle();
        while (true)
        {
            io.ResetReceive();
            int count = LinuxNative.recvmmsg(fd, io.ReceiveHeaders, LinuxBatchIo.BatchSize, LinuxNative.MsgDontWait, null);
            if (count <= 0)
            {
                return;
            }

            long now = Flows.Now;
            Span<byte> address = from.Buffer.Span;
            for (int i = 0; i < count; i++)
            {
                LinuxNative.MMsgHdr* header = &io.ReceiveHeaders[i];
                int length = (int)header->Length;
                Received++;
                _targets[i] = null;
                if (length > MaxDatagramSize)
                {
                    // Larger than any datagram we relay (cut short by the kernel).
                    Router.CountOversized();
                    continue;
                }

                int nameLength = Math.Min((int)header->NameLength, address.Length);
                new ReadOnlySpan<byte>(header->Name, nameLength).CopyTo(address);
                from.Size = nameLength;
                _targets[i] = Resolve(new ReadOnlySpan<byte>(header->Iov->Base, length), from, now);
            }

            SendToUpstreams(io, count, now);

            if (count < LinuxBatchIo.BatchSize)
            {
                return;
            }
        }
    }

    // Datagrams of one flow that arrived together leave together: one sendmmsg on the flow's
    // connected socket for each run of consecutive datagrams with the same upstream.
    private void SendToUpstreams(LinuxBatchIo io, int count, long now)
    {
        for (int first = 0; first < count;)
        {
            Upstream? upstream = _targets[first];
            int end = first + 1;
            while (end < count && ReferenceEquals(_targets[end], upstream))
            {
                end++;
            }

            if (upstream is not null)
            {
                SendRun(io, upstream, first, end, now);
            }

            first = end;
        }

        Array.Clear(_targets);
    }

    private static void SendRun(LinuxBatchIo io, Upstream upstream, int first, int end, long now)
    {
        long bytes = 0;
        for (int i = first; i < end; i++)
        {
            // The socket is connected to the backend: no destination per datagram.
            io.ReceiveHeaders[i].Name = null;
            io.ReceiveHeaders[i].NameLength = 0;
            io.ReceiveHeaders[i].Iov->Length = io.ReceiveHeaders[i].Length;
            bytes += io.ReceiveHeaders[i].Length;
        }

        SafeHandle handle = upstream.Socket.SafeHandle;
        bool held = false;
        try
        {
            handle.DangerousAddRef(ref held);
            SegmentedSender.SendOutcome outcome = io.Sender.Send((int)handle.DangerousGetHandle(), &io.ReceiveHeaders[first], end - first);
            for (int failure = 0; failure < outcome.Failed; failure++)
            {
                upstream.NoteSendError(failure == 0 && outcome.Refused);
            }

            upstream.NoteSent(outcome.Sent, bytes - outcome.FailedBytes, now);
        }
        catch (ObjectDisposedException)
        {
            upstream.NoteSendError(false);
        }
        finally
        {
            if (held)
            {
                handle.DangerousRelease();
            }
        }
    }

    private int ReceiveReplies(LinuxBatchIo io, Upstream upstream, int pending)
    {
        SafeHandle handle = upstream.Socket.SafeHandle;
        bool held = false;
        try
        {
            // Holding a reference keeps the descriptor from being closed (and its number reused)
            // while we read it, should the sweeper close this flow at the same moment.
            handle.DangerousAddRef(ref held);
            int fd = (int)handle.DangerousGetHandle();
            while (true)
            {
                if (pending == LinuxBatchIo.BatchSize)
                {
                    FlushReplies(io, pending);
                    pending = 0;
                }

                int free = LinuxBatchIo.BatchSize - pending;
                for (int i = pending; i < LinuxBatchIo.BatchSize; i++)
                {
                    io.ReplyHeaders[i].Name = null;
                    io.ReplyHeaders[i].NameLength = 0;
                    io.ReplyHeaders[i].Iov->Length = (nuint)io.SlotSize;
                }

                int count = LinuxNative.recvmmsg(fd, &io.ReplyHeaders[pending], (uint)free, LinuxNative.MsgDontWait, null);
                if (count <= 0)
                {
                    if (count < 0 && Marshal.GetLastPInvokeError() == LinuxNative.EConnRefused)
                    {
                        upstream.NoteUnreachable();
                    }

                    return pending;
                }

                long now = Flows.Now;
                int group = ++_replyGroup;
                long hold = Flows.HoldMilliseconds;
                SocketAddress? previous = null;
                for (int i = pending; i < pending + count; i++)
                {
                    LinuxNative.MMsgHdr* header = &io.ReplyHeaders[i];
                    if (!upstream.NoteReply((int)header->Length, now))
                    {
                        io.ReplyGroups[i] = group;
                        header->Iov->Length = 0;
                        header->Name = null;
                        continue;
                    }

                    // Replies of one flow share a destination, unless the return-path rule sends
                    // some elsewhere: a new destination starts a new group (a separate send).
                    SocketAddress client = upstream.ReplyDestination((int)header->Length, now, hold);
                    if (previous is not null && !ReferenceEquals(client, previous))
                    {
                        group = ++_replyGroup;
                    }

                    previous = client;
                    io.ReplyGroups[i] = group;

                    byte* name = io.ReplyName(i);
                    client.Buffer.Span[..client.Size].CopyTo(new Span<byte>(name, LinuxBatchIo.AddressSize));
                    header->Name = name;
                    header->NameLength = (uint)client.Size;
                    header->Iov->Length = header->Length;
                }

                pending += count;
                if (count < free)
                {
                    return pending;
                }
            }
        }
        catch (ObjectDisposedException)
        {
            return pending;
        }
        finally
        {
            if (held)
            {
                handle.DangerousRelease();
            }
        }
    }

    // Replies leave from the listening socket; those read from one flow in one recvmmsg share a
    // client address and go out together (as one GSO message when they are of equal size).
    private void FlushReplies(LinuxBatchIo io, int count)
    {
        int fd = (int)Socket.SafeHandle.DangerousGetHandle();
        for (int first = 0; first < count;)
        {
            int end = first + 1;
            while (end < count && io.ReplyGroups[end] == io.ReplyGroups[first])
            {
                end++;
            }

            // A reply dropped as oversized has no destination: send around it.
            for (int run = first; run < end;)
            {
                if (io.ReplyHeaders[run].Name == null)
                {
                    run++;
                    continue;
                }

                int stop = run;
                while (stop < end && io.ReplyHeaders[stop].Name != null)
                {
                    stop++;
                }

                SegmentedSender.SendOutcome outcome = io.Sender.Send(fd, &io.ReplyHeaders[run], stop - run);
                for (int failure = 0; failure < outcome.Failed; failure++)
                {
                    Flows.CountClientSendError();
                }

                run = stop;
            }

            first = end;
        }
    }

    /// <summary>The flows whose replies this thread relays (read while the thread is paused).</summary>
    public IEnumerable<Upstream> Owned => _owned.Values.Where(u => !u.IsClosed);

    protected override void Wake()
    {
        ulong one = 1;
        LinuxNative.write(_wake, &one, sizeof(ulong));
    }

    protected override void Released() => LinuxNative.close(_wake);

    protected override void OnFlowOpened(Upstream upstream)
    {
        ulong tag = _nextTag++;
        _owned[tag] = upstream;
        _io!.Watch((int)upstream.Socket.SafeHandle.DangerousGetHandle(), tag);
    }
}
