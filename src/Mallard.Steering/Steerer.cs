using System.Globalization;

namespace Mallard.Steering;

/// <summary>
/// Steering on one server. With XDP: the program loaded, fed from a <see cref="SteeringSettings"/>
/// and attached to the interface, and a user-space thread that learns the encrypted connection
/// IDs the program could not decide. Without XDP (<see cref="SteeringMode.UserSpace"/>, or
/// <see cref="SteeringMode.Auto"/> where XDP cannot be loaded or attached): that thread judges
/// every frame for the service port from a packet socket. Packets whose connection ID names a
/// peer go to that peer's MAC; everything else reaches this server's stack. A reload updates the
/// rules in place (steered connections are not disturbed); disposing detaches.
/// </summary>
public sealed class Steerer : IDisposable
{
    private readonly SteeringObject? _program;
    private readonly XdpLink? _link;
    private readonly UserSpaceSteering _userSpace;
    private static readonly TimeSpan NextHopRefresh = TimeSpan.FromSeconds(5);

    private readonly byte[] _ownMac;
    private readonly NetworkPaths _paths;
    private readonly Lock _gate = new();
    private readonly Timer _refresh;
    private SteeringSettings _settings;
    private bool _disposed;

    private Steerer(SteeringObject? program, XdpLink? link, UserSpaceSteering userSpace, byte[] ownMac, SteeringSettings settings, string? xdpUnavailable, NetworkPaths paths)
    {
        _paths = paths;
        // Routes and neighbours change under a running server: the next hops towards peers on
        // other segments are looked up again every few seconds.
        _refresh = new Timer(_ => RefreshNextHops(), null, settings.Encapsulation is null ? Timeout.InfiniteTimeSpan : NextHopRefresh, NextHopRefresh);
        _program = program;
        _link = link;
        _userSpace = userSpace;
        _ownMac = ownMac;
        _settings = settings;
        XdpUnavailable = xdpUnavailable;
    }

    /// <summary>Where packets are judged: <see cref="SteeringMode.Native"/> or <see cref="SteeringMode.Generic"/> XDP, or <see cref="SteeringMode.UserSpace"/>.</summary>
    public SteeringMode Mode => _link?.Mode ?? SteeringMode.UserSpace;

    /// <summary>Why <see cref="SteeringMode.Auto"/> fell back to user space, or null.</summary>
    public string? XdpUnavailable { get; }

    /// <summary>What the chosen mode cannot do well with this configuration, or null.</summary>
    public string? Caveat => Mode == SteeringMode.Generic && _settings.Peers.Any(p => p.Address is not null) ? GenericVxlanCaveat : null;

    private const string GenericVxlanCaveat = "generic XDP cannot wrap a virtual interface's segmentation offload batches (several QUIC packets in one frame, GSO or GRO) in VXLAN for peers on other segments: those are lost and retransmitted";

    /// <summary>This server's MAC on the interface (the source of steered frames).</summary>
    public string OwnMac => string.Join(':', _ownMac.Select(b => b.ToString("x2", CultureInfo.InvariantCulture)));

    /// <summary>
    /// Starts steering on <see cref="SteeringSettings.Interface"/>: loads, fills and attaches the
    /// XDP program (unless the mode is <see cref="SteeringMode.UserSpace"/>) and starts the user-space thread.
    /// </summary>
    /// <exception cref="SteeringException">The interface, the program, the attachment or the packet socket failed; the message says what to do.</exception>
    public static Steerer Start(SteeringSettings settings, string? objectPath = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        (int index, byte[] mac, bool physical, int mtu) = Interface(settings.Interface);
        var paths = new NetworkPaths(new NextHopResolver(settings.Interface), mtu);
        paths.Resolve(settings, wait: true);
        SteeringRules rules = SteeringRules.From(settings, mac, paths.NextHops);
        if (settings.Mode == SteeringMode.UserSpace)
        {
            return WithoutXdp(settings, index, mac, rules, null, paths);
        }

        // Generic XDP sees a virtual interface's segmentation offload batches (and UDP GRO's) as
        // one frame, which it cannot wrap in VXLAN correctly (the batch's offload metadata would
        // cut the wrapped frame at the wrong places); the user-space path splits them first.
        bool routed = settings.Peers.Any(p => p.Address is not null);
        if (settings.Mode == SteeringMode.Auto && routed && !physical)
        {
            return WithoutXdp(settings, index, mac, rules, GenericVxlanCaveat + "; auto steers in user space, which splits them", paths);
        }

        SteeringObject program;
        XdpLink link;
        try
        {
            program = SteeringObject.Load(objectPath);
        }
        catch (SteeringException failure) when (settings.Mode == SteeringMode.Auto)
        {
            return WithoutXdp(settings, index, mac, rules, failure.Message, paths);
        }

        try
        {
            Fill(program, settings, mac, previous: null, paths.NextHops, mtu);
            // Native XDP on a virtual interface is a trap: veth accepts it, but the frames it
            // transmits are dropped unless the peer runs an XDP program too. Auto means generic there.
            link = XdpLink.Attach(program.ProgramFd, index, settings.Mode == SteeringMode.Auto && !physical ? SteeringMode.Generic : settings.Mode);
        }
        catch (SteeringException failure) when (settings.Mode == SteeringMode.Auto)
        {
            program.Dispose();
            return WithoutXdp(settings, index, mac, rules, failure.Message, paths);
        }
        catch
        {
            program.Dispose();
            throw;
        }

        try
        {
            UserSpaceSteering userSpace = UserSpaceSteering.ForXdp(rules, program, PacketSocket.ForSending(index));
            return new Steerer(program, link, userSpace, mac, settings, null, paths);
        }
        catch
        {
            link.Dispose();
            program.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Applies a new configuration: the rules, configs, this server's IDs and the peers are
    /// updated entry by entry (removed ones deleted), without detaching; learned connection IDs
    /// are forgotten (a key or a server may have changed) and learned again at their next packet.
    /// The interface and mode need a restart.
    /// </summary>
    public void Reload(SteeringSettings next)
    {
        ArgumentNullException.ThrowIfNull(next);
        lock (_gate)
        {
            _paths.Resolve(next, wait: true);
            Apply(next, _settings);
            _settings = next;
            _refresh.Change(next.Encapsulation is null ? Timeout.InfiniteTimeSpan : NextHopRefresh, NextHopRefresh);
        }
    }

    // New rules and map entries from the settings and the next hops now; learned IDs forgotten.
    private void Apply(SteeringSettings settings, SteeringSettings? previous)
    {
        SteeringRules rules = SteeringRules.From(settings, _ownMac, _paths.NextHops);
        if (_program is not null)
        {
            Fill(_program, settings, _ownMac, previous, _paths.NextHops, _paths.Mtu);
            _userSpace.Rules = rules;
            _program.ForgetLearned();
        }
        else
        {
            _userSpace.Rules = rules;
        }
    }

    private void RefreshNextHops()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            try
            {
                if (_paths.Resolve(_settings, wait: false))
                {
                    Apply(_settings, _settings);
                }
            }
            catch (Exception failure) when (failure is SteeringException or IOException)
            {
                // A timer thread must not throw: the next refresh tries again.
            }
        }
    }

    /// <summary>The <c>/status</c> document now.</summary>
    public SteeringStatus Status()
    {
        SteeringSettings settings = _settings;
        return new SteeringStatus(
            settings.Interface,
            Mode switch { SteeringMode.Native => "native", SteeringMode.Generic => "generic", _ => "user space" },
            OwnMac,
            settings.ServicePort,
            settings.ServerIds.ToDictionary(p => p.Key.ToString(CultureInfo.InvariantCulture), p => Convert.ToHexStringLower(p.Value)),
            settings.Peers.Count,
            Counters(),
            UserSpaceCounters())
        {
            Program = _program is null ? null : new SteeringProgramTime(_program.RunTime()),
        };
    }

    /// <summary>The XDP program's count of every branch by its metric tag (empty without XDP).</summary>
    public IReadOnlyDictionary<string, long> Counters()
    {
        if (_program is null)
        {
            return new Dictionary<string, long>();
        }

        long[] counts = _program.Counters();
        return Enum.GetValues<SteeringBranch>().ToDictionary(TagOf, b => counts[(int)b]);
    }

    /// <summary>
    /// What the user-space thread judged, by branch (only the branches it met), then
    /// <c>learned</c> (connection IDs installed in the program, with XDP) and <c>not_forwarded</c> (steered
    /// frames that could not be sent: cut, or refused by the interface) and, without XDP,
    /// <c>dropped</c> (frames the kernel dropped before user space read them: its buffer was full).
    /// </summary>
    public IReadOnlyDictionary<string, long> UserSpaceCounters()
    {
        (long[] packets, long learned, long notForwarded, long dropped) = _userSpace.Counters();
        var counters = Enum.GetValues<SteeringBranch>().Where(b => packets[(int)b] > 0).ToDictionary(TagOf, b => packets[(int)b]);
        if (_program is not null)
        {
            counters["learned"] = learned;
        }

        counters["not_forwarded"] = notForwarded;
        if (_program is null)
        {
            counters["dropped"] = dropped;
        }

        return counters;
    }

    /// <summary>Detaches the program, stops the user-space thread and frees both.</summary>
    public void Dispose()
    {
        _refresh.Dispose();
        lock (_gate)
        {
            // A refresh running now has finished; one that starts later sees this and returns.
            _disposed = true;
        }

        _link?.Dispose();
        _userSpace.Dispose();
        _program?.Dispose();
    }

    private static Steerer WithoutXdp(SteeringSettings settings, int index, byte[] mac, SteeringRules rules, string? reason, NetworkPaths paths) =>
        new(null, null, UserSpaceSteering.WithoutXdp(rules, PacketSocket.ForService(index, (ushort)settings.ServicePort, TimeSpan.FromMilliseconds(100)), PacketSocket.ForSending(index)), mac, settings, reason, paths);

    internal static string TagOf(SteeringBranch branch) => string.Concat(branch.ToString().Select((c, i) => i > 0 && char.IsUpper(c) ? "_" + char.ToLowerInvariant(c) : char.ToLowerInvariant(c).ToString()));

    /// <summary>Writes <paramref name="settings"/> into the maps; with <paramref name="previous"/>, deletes the servers it had and these have not.</summary>
    internal static void Fill(SteeringObject program, SteeringSettings settings, byte[] ownMac, SteeringSettings? previous, IReadOnlyDictionary<System.Net.IPAddress, byte[]>? nextHops = null, int mtu = 1500)
    {
        program.SetSettings((ushort)settings.ServicePort, ownMac, enabled: true, settings.Encapsulation, mtu);
        for (int id = 0; id < Mallard.Steering.SteeringMaps.MaxConfigs; id++)
        {
            if (settings.Configs.FirstOrDefault(c => c.ConfigId == id) is { } config)
            {
                program.SetConfig(config);
            }
            else
            {
                program.RemoveConfig(id);
            }
        }

        var wanted = new HashSet<(int, string)>();
        foreach ((int configId, byte[] serverId) in settings.ServerIds)
        {
            program.SetServer(configId, serverId, default, self: true);
            wanted.Add((configId, Convert.ToHexString(serverId)));
        }

        foreach (SteeringPeer peer in settings.Peers)
        {
            program.AddPeer(peer.Mac);
            foreach ((int configId, byte[] serverId) in peer.ServerIds)
            {
                byte[]? nextHop = peer.Address is null ? null : nextHops?.GetValueOrDefault(peer.Address);
                program.SetServer(configId, serverId, peer.Mac, self: false, peer.Address, nextHop);
                wanted.Add((configId, Convert.ToHexString(serverId)));
            }
        }

        // Peers and servers that left the configuration: no longer steered to, nor trusted as peers.
        foreach (SteeringPeer gone in previous?.Peers ?? [])
        {
            if (!settings.Peers.Any(p => p.Mac.AsSpan().SequenceEqual(gone.Mac)))
            {
                program.RemovePeer(gone.Mac);
            }
        }

        foreach ((int configId, byte[] serverId) in Known(previous))
        {
            if (!wanted.Contains((configId, Convert.ToHexString(serverId))))
            {
                program.RemoveServer(configId, serverId);
            }
        }
    }

    private static IEnumerable<(int, byte[])> Known(SteeringSettings? settings) =>
        settings is null ? [] : settings.ServerIds.Select(p => (p.Key, p.Value)).Concat(settings.Peers.SelectMany(p => p.ServerIds.Select(s => (s.Key, s.Value))));

    // The interface's index and MAC, and whether a device backs it, from sysfs (no shelling out).
    private static (int Index, byte[] Mac, bool Physical, int Mtu) Interface(string name)
    {
        string folder = Path.Combine("/sys/class/net", name);
        if (name.Contains('/', StringComparison.Ordinal) || !Directory.Exists(folder))
        {
            throw new SteeringException($"Mallard:Steering:Interface: there is no interface \"{name}\" here");
        }

        int index = int.Parse(File.ReadAllText(Path.Combine(folder, "ifindex")).Trim(), CultureInfo.InvariantCulture);
        byte[] mac = Convert.FromHexString(File.ReadAllText(Path.Combine(folder, "address")).Trim().Replace(":", string.Empty, StringComparison.Ordinal));
        // A device link in sysfs: a NIC's driver, not a virtual interface (veth, bridge, tun).
        int mtu = int.Parse(File.ReadAllText(Path.Combine(folder, "mtu")).Trim(), CultureInfo.InvariantCulture);
        return (index, mac, Directory.Exists(Path.Combine(folder, "device")), mtu);
    }
}
