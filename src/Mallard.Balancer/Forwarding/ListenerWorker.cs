using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Mallard.Balancer.Forwarding.Linux;
using Mallard.Balancer.Routing;

namespace Mallard.Balancer.Forwarding;

/// <summary>
/// One forwarding thread: receives client datagrams on its listening socket (one of several
/// SO_REUSEPORT sockets on Linux, so the kernel spreads clients over threads), routes each with
/// its own <see cref="PacketRouter"/> and relays it through the listener's <see cref="FlowTable"/>.
/// On Linux it waits with epoll and moves datagrams with recvmmsg/sendmmsg, reading the replies
/// of the flows it opened itself; elsewhere it uses blocking .NET socket calls and each flow
/// relays its own replies. Nothing is allocated per packet.
/// </summary>
internal sealed unsafe class ListenerWorker : IDisposable
{
    private const int SweepIntervalMilliseconds = 1000;

    private readonly Socket _socket;
    private readonly FlowTable _flows;
    private const ulong ListenTag = 0;

    private readonly Thread _thread;
    private readonly bool _batched;
    private readonly int _maxDatagramSize;
    private readonly Dictionary<ulong, Upstream> _owned = [];
    private readonly Action<Upstream> _adopt;
    private readonly Upstream?[] _targets = new Upstream?[LinuxBatchIo.BatchSize];
    private LinuxBatchIo? _io;
    private ulong _nextTag = ListenTag + 1;
    private int _replyGroup;
    private volatile bool _stopping;

    public ListenerWorker(Socket socket, FlowTable flows, RoutingState routing, string name, bool batched, int maxDatagramSize)
    {
        _socket = socket;
        _flows = flows;
        _batched = batched;
        _maxDatagramSize = maxDatagramSize;
        Router = new PacketRouter(routing);
        _adopt = Adopt;
        _thread = new Thread(batched ? RunBatched : Run) { IsBackground = true, Name = name };
    }

    /// <summary>Whether this thread uses the Linux batched data plane.</summary>
    public bool IsBatched => _batched;

    public PacketRouter Router { get; }

    /// <summary>Datagrams received from clients.</summary>
    public long Received { get; private set; }

    public void Start() => _thread.Start();

    /// <summary>
    /// Opens a listening socket. With <paramref name="reusePort"/> several sockets share the
    /// address and the kernel hashes each client 4-tuple to one of them.
    /// </summary>
    public static Socket Bind(IPEndPoint endpoint, bool reusePort)
    {
        var socket = new Socket(endpoint.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            if (endpoint.AddressFamily == AddressFamily.InterNetworkV6)
            {
                socket.DualMode = false;
            }

            if (reusePort)
            {
                const int SolSocket = 1;
                const int SoReusePort = 15;
                socket.SetRawSocketOption(SolSocket, SoReusePort, BitConverter.GetBytes(1));
            }

            socket.ReceiveBufferSize = 4 << 20;
            socket.SendBufferSize = 4 << 20;
            socket.ReceiveTimeout = SweepIntervalMilliseconds;
            socket.Bind(endpoint);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        _stopping = true;
        _socket.Dispose();
        if (_thread.IsAlive && Thread.CurrentThread != _thread)
        {
            _thread.Join(TimeSpan.FromSeconds(5));
        }
    }

    private void Run()
    {
        byte[] buffer = GC.AllocateUninitializedArray<byte>(65_536, pinned: true);
        var from = new SocketAddress(_socket.AddressFamily);
        long lastSweep = _flows.Now;
        while (!_stopping)
        {
            int received = -1;
            try
            {
                received = _socket.ReceiveFrom(buffer, SocketFlags.None, from);
            }
            catch (SocketException error) when (error.SocketErrorCode is SocketError.TimedOut or SocketError.WouldBlock
                or SocketError.ConnectionReset or SocketError.MessageSize or SocketError.Interrupted)
            {
                // A timeout lets the thread sweep while idle; the rest concern one datagram only.
            }
            catch (SocketException) when (_stopping)
            {
                return;
            }
            catch (ObjectDisposedException)
            {
                return;
            }

            long now = _flows.Now;
            if (received >= 0)
            {
                Received++;
                Forward(buffer.AsSpan(0, received), from, now);
            }

            if (now - lastSweep >= SweepIntervalMilliseconds)
            {
                lastSweep = now;
                Router.Sweep(now);
            }
        }
    }

    private void Forward(ReadOnlySpan<byte> datagram, SocketAddress from, long now) =>
        Resolve(datagram, from, now)?.Send(datagram, now);

    private Upstream? Resolve(ReadOnlySpan<byte> datagram, SocketAddress from, long now)
    {
        var client = EndpointKey.From(from);
        RouteDecision decision = Router.Route(datagram, client, now);
        return decision.IsDropped ? null : _flows.Resolve(decision, client, from, datagram.Length, _socket, now, _io is null ? null : _adopt);
    }

    // The Linux data plane: one epoll set holds the listening socket and every flow this thread
    // opened. Client datagrams arrive up to 32 per recvmmsg; backend replies are read straight
    // into reply slots and leave in one sendmmsg per wake-up.
    private void RunBatched()
    {
        // Slots hold the largest datagram relayed plus one octet to detect larger ones.
        int slotSize = (_maxDatagramSize + 1 + 63) & ~63;
        using var io = new LinuxBatchIo(slotSize);
        _io = io;

        // Hold the listening socket's descriptor for the life of the loop: Dispose may close the
        // socket at any moment, and its number must not be reused under a pending recvmmsg.
        bool held = false;
        try
        {
            _socket.SafeHandle.DangerousAddRef(ref held);
            RunBatched(io);
        }
        catch (ObjectDisposedException)
        {
            // Stopped before the loop began.
        }
        finally
        {
            if (held)
            {
                _socket.SafeHandle.DangerousRelease();
            }
        }
    }

    private void RunBatched(LinuxBatchIo io)
    {
        io.Watch((int)_socket.SafeHandle.DangerousGetHandle(), ListenTag);
        var from = new SocketAddress(_socket.AddressFamily);
        long lastSweep = _flows.Now;
        while (!_stopping)
        {
            int ready = LinuxNative.epoll_wait(io.EpollFd, io.Events, LinuxBatchIo.MaxEvents, SweepIntervalMilliseconds);
            if (_stopping)
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
                else if (_owned.TryGetValue(tag, out Upstream? upstream))
                {
                    replies = ReceiveReplies(io, upstream, replies);
                }
            }

            FlushReplies(io, replies);
            long now = _flows.Now;
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
        int fd = (int)_socket.SafeHandle.DangerousGetHandle();
        while (true)
        {
            io.ResetReceive();
            int count = LinuxNative.recvmmsg(fd, io.ReceiveHeaders, LinuxBatchIo.BatchSize, LinuxNative.MsgDontWait, null);
            if (count <= 0)
            {
                return;
            }

            long now = _flows.Now;
            Span<byte> address = from.Buffer.Span;
            for (int i = 0; i < count; i++)
            {
                LinuxNative.MMsgHdr* header = &io.ReceiveHeaders[i];
                int length = (int)header->Length;
                Received++;
                _targets[i] = null;
                if (length > _maxDatagramSize)
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

                long now = _flows.Now;
                int group = ++_replyGroup;
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
                    SocketAddress client = upstream.ReplyDestination((int)header->Length, now);
                    if (previous is not null && !ReferenceEquals(client, previous))
                    {
                        group = ++_replyGroup;
                    }

                    previous = client;
                    io.ReplyGroups[i] = group;

                    byte* name = io.ReplyNames + (i * LinuxBatchIo.AddressSize);
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
        int fd = (int)_socket.SafeHandle.DangerousGetHandle();
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
                    _flows.CountClientSendError();
                }

                run = stop;
            }

            first = end;
        }
    }

    private void Adopt(Upstream upstream)
    {
        ulong tag = _nextTag++;
        _owned[tag] = upstream;
        _io!.Watch((int)upstream.Socket.SafeHandle.DangerousGetHandle(), tag);
    }
}
