namespace Mallard.Steering;

/// <summary>
/// The user-space half of steering, on a thread of its own. With XDP it reads the frames the
/// program could not decide (encrypted connection IDs not learned yet) from the
/// <see cref="LearnQueue"/>, decodes each ID, installs where it belongs in the program's learned
/// map (this server or a peer), and sends the frame itself to its owner. Without XDP
/// (<see cref="SteeringMode.UserSpace"/>) it reads every frame for the service port from a
/// <see cref="PacketSocket"/> and steers by the same rules. Steered frames leave through a
/// packet socket with the owner's MAC; the local stack drops its own copy (a Mallard.Quic server
/// with QUIC-LB connection IDs drops packets for other servers' IDs).
/// </summary>
internal sealed class UserSpaceSteering : IDisposable
{
    private const int MaxFrame = 65_536 + 128; // a whole segmentation batch and its headers

    private static readonly TimeSpan Wait = TimeSpan.FromMilliseconds(100);

    private readonly PacketSocket _sender;
    private readonly PacketSocket? _receiver;
    private readonly LearnQueue? _queue;
    private readonly SteeringObject? _program;
    private readonly long[] _packets = new long[Enum.GetValues<SteeringBranch>().Length];
    private readonly Thread _thread;
    private volatile SteeringRules _rules;
    private volatile bool _stopping;
    private readonly byte[] _segment = new byte[MaxFrame];
    private readonly byte[] _wrapped = new byte[MaxFrame + 8];
    private System.Net.Sockets.Socket? _vxlan;
    private SteeringEncapsulation? _vxlanFrom;
    private readonly Dictionary<System.Net.IPAddress, System.Net.SocketAddress> _vxlanPeers = [];
    private long _learned;
    private long _notForwarded;
    private long _dropped;

    private UserSpaceSteering(SteeringRules rules, PacketSocket sender, PacketSocket? receiver, SteeringObject? program)
    {
        _rules = rules;
        _sender = sender;
        _receiver = receiver;
        _program = program;
        if (program is not null)
        {
            _queue = new LearnQueue(program.LearnQueueFd, (frame, length) => Handle(frame, length));
        }

        _thread = new Thread(Run) { IsBackground = true, Name = "mallard steer (user space)" };
    }

    /// <summary>Learns for <paramref name="program"/> from its queue, sending through <paramref name="sender"/>.</summary>
    public static UserSpaceSteering ForXdp(SteeringRules rules, SteeringObject program, PacketSocket sender) => Started(new UserSpaceSteering(rules, sender, null, program));

    /// <summary>Steers every frame <paramref name="receiver"/> reads (no XDP), sending through <paramref name="sender"/>.</summary>
    public static UserSpaceSteering WithoutXdp(SteeringRules rules, PacketSocket receiver, PacketSocket sender) => Started(new UserSpaceSteering(rules, sender, receiver, null));

    /// <summary>The rules in force; a reload replaces them.</summary>
    public SteeringRules Rules
    {
        get => _rules;
        set => _rules = value;
    }

    /// <summary>
    /// Frames judged here by branch (<see cref="SteeringBranch.Steered"/>: sent to the owner),
    /// connection IDs learned, steered frames that could not be sent, and frames the kernel
    /// dropped before this thread read them (its socket's buffer full).
    /// </summary>
    public (long[] Packets, long Learned, long NotForwarded, long Dropped) Counters()
    {
        long[] packets = new long[_packets.Length];
        for (int i = 0; i < packets.Length; i++)
        {
            packets[i] = Volatile.Read(ref _packets[i]);
        }

        // The kernel's count resets when read: gathered here, whatever thread asks.
        Interlocked.Add(ref _dropped, _receiver?.TakeDropped() ?? 0);
        return (packets, Volatile.Read(ref _learned), Volatile.Read(ref _notForwarded) + (_queue?.HandlerFailures ?? 0), Volatile.Read(ref _dropped));
    }

    /// <summary>
    /// Judges one frame (a copy this class may rewrite; <paramref name="frameLength"/> is its
    /// whole length) and acts: learn, send to the owner. A frame that is a segmentation offload
    /// batch (<paramref name="segmentSize"/> above 0) goes on as the datagrams it holds.
    /// </summary>
    public void Handle(Span<byte> frame, int frameLength, int segmentSize = 0)
    {
        SteeringRules rules = _rules;
        SteeringVerdict verdict = rules.Judge(frame);
        Interlocked.Increment(ref _packets[(int)verdict.Branch]);
        if (_program is not null && verdict.Encrypted && verdict.Branch is SteeringBranch.Own or SteeringBranch.Steered)
        {
            Span<byte> mac = stackalloc byte[6];
            Span<byte> nextHop = stackalloc byte[6];
            verdict.Target.WriteMac(mac);
            SteeringTarget.WriteMac(verdict.Target.NextHop, nextHop);
            _program.Learn(frame.Slice(verdict.ConnectionIdOffset, verdict.ConnectionIdLength), mac, verdict.Target.IsSelf, verdict.Target.Underlay, nextHop);
            Interlocked.Increment(ref _learned);
        }

        if (verdict.Branch != SteeringBranch.Steered)
        {
            return;
        }

        if (frame.Length < frameLength)
        {
            Interlocked.Increment(ref _notForwarded);
            return;
        }

        if (segmentSize <= 0)
        {
            Forward(frame, verdict.Target, rules);
            return;
        }

        for (int index = 0; ; index++)
        {
            int length = SteeredFrame.Segment(frame, segmentSize, index, _segment);
            if (length == 0)
            {
                break;
            }

            Forward(_segment.AsSpan(0, length), verdict.Target, rules);
        }
    }

    public void Dispose()
    {
        _stopping = true;
        if (_thread.IsAlive && _thread != Thread.CurrentThread)
        {
            _thread.Join();
        }

        _queue?.Dispose();
        _receiver?.Dispose();
        _sender.Dispose();
        _vxlan?.Dispose();
    }

    private void Forward(Span<byte> frame, SteeringTarget owner, SteeringRules rules)
    {
        bool sent = SteeredFrame.Prepare(frame, owner, rules.OwnMac)
            && (owner.Underlay is null ? _sender.Send(frame) : SendWrapped(frame, owner.Underlay, rules.Encapsulation));
        if (!sent)
        {
            Interlocked.Increment(ref _notForwarded);
        }
    }

    // To a peer on another segment: the frame after a VXLAN header (RFC 7348 section 5), in a UDP
    // datagram from this server's underlay address; the kernel routes it, and the peer's VXLAN
    // device unwraps it. Don't-fragment: a frame too big for the underlay is counted, not split.
    private bool SendWrapped(ReadOnlySpan<byte> frame, System.Net.IPAddress peer, SteeringEncapsulation? encapsulation)
    {
        if (encapsulation is null || frame.Length + 8 > _wrapped.Length)
        {
            return false;
        }

        try
        {
            if (_vxlan is null || !_vxlanFrom!.Equals(encapsulation))
            {
                _vxlan?.Dispose();
                _vxlan = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Dgram, System.Net.Sockets.ProtocolType.Udp) { DontFragment = true };
                _vxlan.Bind(new System.Net.IPEndPoint(encapsulation.Address, 0));
                _vxlanFrom = encapsulation;
                _vxlanPeers.Clear();
            }

            _wrapped.AsSpan(0, 8).Clear();
            _wrapped[0] = 0x08; // a valid VNI follows
            System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(_wrapped.AsSpan(4), encapsulation.Vni << 8);
            frame.CopyTo(_wrapped.AsSpan(8));
            if (!_vxlanPeers.TryGetValue(peer, out System.Net.SocketAddress? address))
            {
                address = new System.Net.IPEndPoint(peer, encapsulation.Port).Serialize(); // once per peer, not per packet
                _vxlanPeers[peer] = address;
            }

            return _vxlan.SendTo(_wrapped.AsSpan(0, frame.Length + 8), System.Net.Sockets.SocketFlags.None, address) == frame.Length + 8;
        }
        catch (System.Net.Sockets.SocketException)
        {
            return false;
        }
    }

    private static UserSpaceSteering Started(UserSpaceSteering steering)
    {
        steering._thread.Start();
        return steering;
    }

    private void Run()
    {
        byte[] frame = new byte[MaxFrame];
        while (!_stopping)
        {
            if (_queue is not null)
            {
                _queue.Poll(Wait);
                continue;
            }

            int length = _receiver!.Receive(frame, out int segmentSize);
            if (length > 0)
            {
                Handle(frame.AsSpan(0, Math.Min(length, frame.Length)), length, segmentSize);
            }

        }
    }
}
