using System.Runtime.InteropServices;
using Mallard.QuicLb;
using Mallard.Steering.Bpf;

namespace Mallard.Steering;

/// <summary>
/// The loaded XDP program (mallard_steer.bpf.o) and its maps: what the control plane writes
/// (settings, QUIC-LB configurations, servers, learned connection IDs, peers) and reads
/// (per-CPU branch counters), and a test run of the program on a crafted frame. Loading needs
/// root or CAP_BPF; attaching it to an interface is <c>mallard steer</c>'s part.
/// </summary>
internal sealed unsafe class SteeringObject : IDisposable
{
    /// <summary>The object file's name beside this assembly.</summary>
    public const string FileName = "mallard_steer.bpf.o";

    private const string ProgramName = "mallard_steer";

    private readonly nint _object;
    private readonly int _settings;
    private readonly int _configs;
    private readonly int _servers;
    private readonly int _learned;
    private readonly int _peers;
    private readonly int _counters;
    private readonly int _cpus;

    private SteeringObject(nint loaded)
    {
        _object = loaded;
        nint program = Libbpf.bpf_object__find_program_by_name(loaded, ProgramName);
        ProgramFd = program == 0 ? -1 : Libbpf.bpf_program__fd(program);
        if (ProgramFd < 0)
        {
            throw new SteeringException($"{FileName} has no program {ProgramName}");
        }

        _settings = Map("steer_settings", sizeof(uint), sizeof(SteeringMaps.Settings));
        _configs = Map("steer_configs", sizeof(uint), sizeof(SteeringMaps.Config));
        _servers = Map("steer_servers", sizeof(SteeringMaps.ServerKey), sizeof(SteeringMaps.Target));
        _learned = Map("steer_learned", sizeof(SteeringMaps.ConnectionIdKey), sizeof(SteeringMaps.Target));
        _peers = Map("steer_peers", sizeof(SteeringMaps.MacKey), sizeof(byte));
        _counters = Map("steer_counters", sizeof(uint), sizeof(ulong));
        nint queue = Libbpf.bpf_object__find_map_by_name(loaded, "steer_learn_queue");
        LearnQueueFd = queue == 0 ? throw new SteeringException($"{FileName} has no map steer_learn_queue") : Libbpf.bpf_map__fd(queue);
        _cpus = Libbpf.libbpf_num_possible_cpus();
    }

    /// <summary>The program's descriptor (for attaching).</summary>
    public int ProgramFd { get; }

    /// <summary>The ring buffer of frames whose encrypted connection ID is not learned yet (<see cref="LearnQueue"/>).</summary>
    public int LearnQueueFd { get; }

    /// <summary>Where the object file is by default: beside this assembly.</summary>
    public static string DefaultPath => Path.Combine(AppContext.BaseDirectory, FileName);

    /// <summary>Opens and loads the program into the kernel (the verifier checks it here).</summary>
    /// <exception cref="SteeringException">The file is missing, or the kernel refused it; the message says why.</exception>
    public static SteeringObject Load(string? path = null)
    {
        path ??= DefaultPath;
        if (!File.Exists(path))
        {
            throw new SteeringException($"the XDP program {path} is missing: build Mallard with clang and libbpf-dev installed (apt-get install clang libbpf-dev)");
        }

        nint opened = Libbpf.bpf_object__open_file(path, null);
        if (opened == 0)
        {
            throw new SteeringException($"cannot open {path}: {Describe(Marshal.GetLastPInvokeError())}");
        }

        int loaded = Libbpf.bpf_object__load(opened);
        if (loaded != 0)
        {
            Libbpf.bpf_object__close(opened);
            throw new SteeringException($"the kernel refused {path}: {Describe(-loaded)}");
        }

        try
        {
            return new SteeringObject(opened);
        }
        catch
        {
            Libbpf.bpf_object__close(opened);
            throw;
        }
    }

    /// <summary>
    /// Sets the service port, this server's MAC (the source of steered frames), whether steering
    /// is on, and the VXLAN encapsulation towards peers on other segments (null: none).
    /// </summary>
    public void SetSettings(ushort servicePort, ReadOnlySpan<byte> ownMac, bool enabled, SteeringEncapsulation? encapsulation = null, int mtu = 1500)
    {
        var settings = new SteeringMaps.Settings
        {
            ServicePort = (ushort)System.Net.IPAddress.HostToNetworkOrder((short)servicePort),
            Enabled = enabled ? (byte)1 : (byte)0,
            VxlanPort = encapsulation is null ? (ushort)0 : (ushort)System.Net.IPAddress.HostToNetworkOrder((short)encapsulation.Port),
            VxlanWord = encapsulation is null ? 0 : (uint)System.Net.IPAddress.HostToNetworkOrder(encapsulation.Vni << 8),
            UnderlayAddress = encapsulation is null ? 0 : NetworkOrder(encapsulation.Address),
            UnderlayMtu = (ushort)Math.Clamp(mtu, 0, ushort.MaxValue),
        };
        ownMac[..6].CopyTo(new Span<byte>(settings.OwnMac, 6));
        uint key = 0;
        Update(_settings, &key, &settings);
    }

    /// <summary>Publishes a QUIC-LB configuration under its rotation codepoint.</summary>
    public void SetConfig(QuicLbConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var entry = new SteeringMaps.Config
        {
            Present = 1,
            ServerIdLength = (byte)config.ServerIdLength,
            ConnectionIdLength = (byte)config.ConnectionIdLength,
            Encrypted = config.Algorithm == QuicLbAlgorithm.Plaintext ? (byte)0 : (byte)1,
        };
        uint key = (uint)config.ConfigId;
        Update(_configs, &key, &entry);
    }

    /// <summary>Withdraws the configuration of a rotation codepoint.</summary>
    public void RemoveConfig(int configId)
    {
        var entry = default(SteeringMaps.Config);
        uint key = (uint)configId;
        Update(_configs, &key, &entry);
    }

    /// <summary>
    /// Says where the server with <paramref name="serverId"/> under config <paramref name="configId"/>
    /// is: this server, its MAC on the segment, or (with <paramref name="underlay"/>) its VXLAN
    /// device's MAC behind that underlay address, reached through <paramref name="nextHop"/>
    /// (empty: not resolved yet, so not steered).
    /// </summary>
    public void SetServer(int configId, ReadOnlySpan<byte> serverId, ReadOnlySpan<byte> mac, bool self, System.Net.IPAddress? underlay = null, ReadOnlySpan<byte> nextHop = default)
    {
        SteeringMaps.ServerKey key = ServerKeyOf(configId, serverId);
        SteeringMaps.Target target = TargetOf(mac, self, underlay, nextHop);
        Update(_servers, &key, &target);
    }

    /// <summary>Forgets a server.</summary>
    public bool RemoveServer(int configId, ReadOnlySpan<byte> serverId)
    {
        SteeringMaps.ServerKey key = ServerKeyOf(configId, serverId);
        return Libbpf.bpf_map_delete_elem(_servers, &key) == 0;
    }

    /// <summary>Installs a connection ID that user space decoded (encrypted configs): its packets are steered in the kernel from now on.</summary>
    public void Learn(ReadOnlySpan<byte> connectionId, ReadOnlySpan<byte> mac, bool self, System.Net.IPAddress? underlay = null, ReadOnlySpan<byte> nextHop = default)
    {
        if (connectionId.Length is 0 or > SteeringMaps.MaxConnectionId)
        {
            throw new ArgumentOutOfRangeException(nameof(connectionId), "a connection ID is 1 to 20 octets");
        }

        var key = new SteeringMaps.ConnectionIdKey { Length = (byte)connectionId.Length };
        connectionId.CopyTo(new Span<byte>(key.Id, SteeringMaps.MaxConnectionId));
        SteeringMaps.Target target = TargetOf(mac, self, underlay, nextHop);
        Update(_learned, &key, &target);
    }

    /// <summary>Forgets every learned connection ID (after a reload: keys or servers may have changed); their next packets are learned again.</summary>
    public int ForgetLearned()
    {
        var first = default(SteeringMaps.ConnectionIdKey);
        int forgotten = 0;
        // Always the first key: each deletion changes the map under a cursor.
        while (Libbpf.bpf_map_get_next_key(_learned, null, &first) == 0)
        {
            if (Libbpf.bpf_map_delete_elem(_learned, &first) != 0)
            {
                break;
            }

            forgotten++;
        }

        return forgotten;
    }

    /// <summary>Marks a MAC as another server's: frames from it were steered already and always pass.</summary>
    public void AddPeer(ReadOnlySpan<byte> mac)
    {
        var key = default(SteeringMaps.MacKey);
        mac[..6].CopyTo(new Span<byte>(key.Mac, 6));
        byte one = 1;
        Update(_peers, &key, &one);
    }

    /// <summary>Forgets a peer's MAC.</summary>
    public bool RemovePeer(ReadOnlySpan<byte> mac)
    {
        var key = default(SteeringMaps.MacKey);
        mac[..6].CopyTo(new Span<byte>(key.Mac, 6));
        return Libbpf.bpf_map_delete_elem(_peers, &key) == 0;
    }

    /// <summary>
    /// The kernel's account of the program: runs and nanoseconds spent in it. Both stay 0 unless
    /// statistics are on (<c>sysctl kernel.bpf_stats_enabled=1</c>, which costs a clock read per
    /// run, so it is off by default).
    /// </summary>
    public (long Runs, long Nanoseconds) RunTime()
    {
        byte* info = stackalloc byte[Libbpf.ProgramInfoLength];
        new Span<byte>(info, Libbpf.ProgramInfoLength).Clear();
        uint length = Libbpf.ProgramInfoLength;
        if (Libbpf.bpf_obj_get_info_by_fd(ProgramFd, info, &length) != 0 || length < Libbpf.ProgramInfoLength)
        {
            return (0, 0);
        }

        return (*(long*)(info + Libbpf.ProgramInfoRunCount), *(long*)(info + Libbpf.ProgramInfoRunTime));
    }

    /// <summary>Every branch's count, summed over the CPUs.</summary>
    public long[] Counters()
    {
        var totals = new long[Enum.GetValues<SteeringBranch>().Length];
        ulong* perCpu = stackalloc ulong[Math.Max(1, _cpus)];
        for (uint branch = 0; branch < totals.Length; branch++)
        {
            if (Libbpf.bpf_map_lookup_elem(_counters, &branch, perCpu) != 0)
            {
                continue;
            }

            for (int cpu = 0; cpu < _cpus; cpu++)
            {
                totals[branch] += (long)perCpu[cpu];
            }
        }

        return totals;
    }

    /// <summary>
    /// Runs the program once on <paramref name="frame"/> (an Ethernet frame) in the kernel,
    /// without any interface: the verdict (XDP_PASS 2, XDP_TX 3, ...) and the frame as the
    /// program left it in <paramref name="output"/>.
    /// </summary>
    public uint TestRun(ReadOnlySpan<byte> frame, Span<byte> output, out int outputLength) => TestRun(frame, output, out outputLength, 1, out _);

    /// <summary>
    /// As <see cref="TestRun(ReadOnlySpan{byte}, Span{byte}, out int)"/>, <paramref name="repeat"/>
    /// times in the kernel; <paramref name="nanoseconds"/> is the kernel's average per run.
    /// </summary>
    public uint TestRun(ReadOnlySpan<byte> frame, Span<byte> output, out int outputLength, int repeat, out uint nanoseconds)
    {
        fixed (byte* input = frame)
        fixed (byte* result = output)
        {
            var options = new Libbpf.TestRunOptions
            {
                Size = (nuint)sizeof(Libbpf.TestRunOptions),
                DataIn = input,
                DataSizeIn = (uint)frame.Length,
                DataOut = result,
                DataSizeOut = (uint)output.Length,
                Repeat = repeat,
            };
            int error = Libbpf.bpf_prog_test_run_opts(ProgramFd, &options);
            if (error != 0)
            {
                throw new SteeringException($"test run failed: {Describe(-error)}");
            }

            outputLength = (int)options.DataSizeOut;
            nanoseconds = options.Duration;
            return options.ReturnValue;
        }
    }

    public void Dispose() => Libbpf.bpf_object__close(_object);

    private static SteeringMaps.ServerKey ServerKeyOf(int configId, ReadOnlySpan<byte> serverId)
    {
        if (serverId.Length is 0 or > SteeringMaps.MaxServerId)
        {
            throw new ArgumentOutOfRangeException(nameof(serverId), "a server ID is 1 to 15 octets");
        }

        var key = new SteeringMaps.ServerKey { ConfigId = (byte)configId, Length = (byte)serverId.Length };
        serverId.CopyTo(new Span<byte>(key.Id, SteeringMaps.MaxServerId));
        return key;
    }

    private static uint NetworkOrder(System.Net.IPAddress address)
    {
        Span<byte> octets = stackalloc byte[4];
        return address.TryWriteBytes(octets, out int written) && written == 4 ? System.Runtime.InteropServices.MemoryMarshal.Read<uint>(octets) : 0;
    }

    private static SteeringMaps.Target TargetOf(ReadOnlySpan<byte> mac, bool self, System.Net.IPAddress? underlay, ReadOnlySpan<byte> nextHop)
    {
        var target = new SteeringMaps.Target { Self = self ? (byte)1 : (byte)0, UnderlayAddress = underlay is null ? 0 : NetworkOrder(underlay) };
        if (nextHop.Length == 6)
        {
            nextHop.CopyTo(new Span<byte>(target.NextHop, 6));
        }

        if (!self)
        {
            mac[..6].CopyTo(new Span<byte>(target.Mac, 6));
        }

        return target;
    }

    private static string Describe(int errno) => errno switch
    {
        1 => "operation not permitted (loading XDP programs needs root or CAP_BPF and CAP_NET_ADMIN)",
        13 => "permission denied (the verifier rejected the program, or this process lacks CAP_BPF)",
        2 => "no such file",
        _ => $"errno {errno} ({Marshal.GetPInvokeErrorMessage(errno)})",
    };

    private int Map(string name, int keySize, int valueSize)
    {
        nint map = Libbpf.bpf_object__find_map_by_name(_object, name);
        if (map == 0)
        {
            throw new SteeringException($"{FileName} has no map {name}");
        }

        uint actualKey = Libbpf.bpf_map__key_size(map);
        uint actualValue = Libbpf.bpf_map__value_size(map);
        if (actualKey != keySize || actualValue != valueSize)
        {
            throw new SteeringException($"map {name} has {actualKey}-octet keys and {actualValue}-octet values in {FileName}; this build expects {keySize} and {valueSize} (SteeringMaps.cs and mallard_steer.bpf.c disagree)");
        }

        return Libbpf.bpf_map__fd(map);
    }

    private void Update(int fd, void* key, void* value)
    {
        if (Libbpf.bpf_map_update_elem(fd, key, value, 0) != 0)
        {
            throw new SteeringException($"map update failed: {Describe(Marshal.GetLastPInvokeError())}");
        }
    }
}
