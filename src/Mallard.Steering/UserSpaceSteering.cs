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
    private static readonly TimeSpan Wait = TimeSpan.FromMilliseconds(100);

    private readonly PacketSocket _sender;
    private readonly PacketSocket? _receiver;
    private readonly LearnQueue? _queue;
    private readonly SteeringObject? _program;
    private readonly long[] _packets = new long[Enum.GetValues<SteeringBranch>().Length];
    private readonly Thread _thread;
    private volatile SteeringRules _rules;
    private volatile bool _stopping;
    private long _learned;
    private long _notForwarded;

    private UserSpaceSteering(SteeringRules rules, PacketSocket sender, PacketSocket? receiver, SteeringObject? program)
    {
        _rules = rules;
        _sender = sender;
        _receiver = receiver;
        _program = program;
        if (program is not null)
        {
            _queue = new LearnQueue(program.LearnQueueFd, Handle);
        }

        _thread = new Thread(Run) { IsBackground = true, Name = "mallard steer (user space)" };
    }

    /// <summary>Learns for <paramref name="program"/> from its queue, sending through <paramref name="sender"/>.</summary>
    public static UserSpaceSteering ForXdp(SteeringRules rules, SteeringObject program, PacketSocket sender) => Started(new UserSpaceSteering(rules, sender, null, program));

    /// <summary>Steers every frame <paramref name="receiver"/> reads (no XDP), sending through the same socket.</summary>
    public static UserSpaceSteering WithoutXdp(SteeringRules rules, PacketSocket receiver) => Started(new UserSpaceSteering(rules, receiver, receiver, null));

    /// <summary>The rules in force; a reload replaces them.</summary>
    public SteeringRules Rules
    {
        get => _rules;
        set => _rules = value;
    }

    /// <summary>Frames judged here by branch (<see cref="SteeringBranch.Steered"/>: sent to the owner), connection IDs learned, and steered frames that could not be sent.</summary>
    public (long[] Packets, long Learned, long NotForwarded) Counters()
    {
        long[] packets = new long[_packets.Length];
        for (int i = 0; i < packets.Length; i++)
        {
            packets[i] = Volatile.Read(ref _packets[i]);
        }

        return (packets, Volatile.Read(ref _learned), Volatile.Read(ref _notForwarded) + (_queue?.HandlerFailures ?? 0));
    }

    /// <summary>Judges one frame (a copy this class may rewrite) and acts: learn, send to the owner.</summary>
    public void Handle(Span<byte> frame, int frameLength)
    {
        SteeringRules rules = _rules;
        SteeringVerdict verdict = rules.Judge(frame);
        Interlocked.Increment(ref _packets[(int)verdict.Branch]);
        if (_program is not null && verdict.Encrypted && verdict.Branch is SteeringBranch.Own or SteeringBranch.Steered)
        {
            Span<byte> mac = stackalloc byte[6];
            verdict.Target.WriteMac(mac);
            _program.Learn(frame.Slice(verdict.ConnectionIdOffset, verdict.ConnectionIdLength), mac, verdict.Target.IsSelf);
            Interlocked.Increment(ref _learned);
        }

        if (verdict.Branch == SteeringBranch.Steered
            && (frame.Length < frameLength || !SteeredFrame.Prepare(frame, verdict.Target, rules.OwnMac) || !_sender.Send(frame)))
        {
            Interlocked.Increment(ref _notForwarded);
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
        _sender.Dispose();
    }

    private static UserSpaceSteering Started(UserSpaceSteering steering)
    {
        steering._thread.Start();
        return steering;
    }

    private void Run()
    {
        Span<byte> frame = stackalloc byte[LearnQueue.MaxFrame * 6]; // jumbo frames fit, and are counted as cut past that
        while (!_stopping)
        {
            if (_queue is not null)
            {
                _queue.Poll(Wait);
                continue;
            }

            int length = _receiver!.Receive(frame);
            if (length > 0)
            {
                Handle(frame[..Math.Min(length, frame.Length)], length);
            }
        }
    }
}
