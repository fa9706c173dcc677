using System.Globalization;

namespace Mallard.Steering;

/// <summary>
/// Steering on one server: the XDP program loaded, fed from a <see cref="SteeringSettings"/> and
/// attached to the interface. Packets for the service port whose connection ID names a peer go
/// to that peer's MAC; everything else reaches this server's stack. A reload updates the maps in
/// place (the program stays attached, steered connections are not disturbed); disposing detaches.
/// </summary>
public sealed class Steerer : IDisposable
{
    private readonly SteeringObject _program;
    private readonly XdpLink _link;
    private readonly byte[] _ownMac;
    private SteeringSettings _settings;

    private Steerer(SteeringObject program, XdpLink link, byte[] ownMac, SteeringSettings settings)
    {
        _program = program;
        _link = link;
        _ownMac = ownMac;
        _settings = settings;
    }

    /// <summary>The mode the program runs in.</summary>
    public XdpMode Mode => _link.Mode;

    /// <summary>This server's MAC on the interface (the source of steered frames).</summary>
    public string OwnMac => string.Join(':', _ownMac.Select(b => b.ToString("x2", CultureInfo.InvariantCulture)));

    /// <summary>Loads the program, fills its maps and attaches it to <see cref="SteeringSettings.Interface"/>.</summary>
    /// <exception cref="SteeringException">The interface, the program or the attachment failed; the message says what to do.</exception>
    public static Steerer Start(SteeringSettings settings, string? objectPath = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        (int index, byte[] mac) = Interface(settings.Interface);
        SteeringObject program = SteeringObject.Load(objectPath);
        try
        {
            Fill(program, settings, mac, previous: null);
            XdpLink link = XdpLink.Attach(program.ProgramFd, index, settings.Mode);
            return new Steerer(program, link, mac, settings);
        }
        catch
        {
            program.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Applies a new configuration to the running program: configs, this server's IDs and the
    /// peers are updated entry by entry (removed ones deleted), without detaching. The interface
    /// and mode need a restart.
    /// </summary>
    public void Reload(SteeringSettings next)
    {
        ArgumentNullException.ThrowIfNull(next);
        Fill(_program, next, _ownMac, _settings);
        _settings = next;
    }

    /// <summary>The <c>/status</c> document now.</summary>
    public SteeringStatus Status()
    {
        SteeringSettings settings = _settings;
        return new SteeringStatus(
            settings.Interface,
            Mode == XdpMode.Native ? "native" : "generic",
            OwnMac,
            settings.ServicePort,
            settings.ServerIds.ToDictionary(p => p.Key.ToString(CultureInfo.InvariantCulture), p => Convert.ToHexStringLower(p.Value)),
            settings.Peers.Count,
            Counters());
    }

    /// <summary>Every branch's count by its metric tag.</summary>
    public IReadOnlyDictionary<string, long> Counters()
    {
        long[] counts = _program.Counters();
        return Enum.GetValues<SteeringBranch>().ToDictionary(TagOf, b => counts[(int)b]);
    }

    /// <summary>Detaches the program and frees it.</summary>
    public void Dispose()
    {
        _link.Dispose();
        _program.Dispose();
    }

    internal static string TagOf(SteeringBranch branch) => string.Concat(branch.ToString().Select((c, i) => i > 0 && char.IsUpper(c) ? "_" + char.ToLowerInvariant(c) : char.ToLowerInvariant(c).ToString()));

    /// <summary>Writes <paramref name="settings"/> into the maps; with <paramref name="previous"/>, deletes the servers it had and these have not.</summary>
    internal static void Fill(SteeringObject program, SteeringSettings settings, byte[] ownMac, SteeringSettings? previous)
    {
        program.SetSettings((ushort)settings.ServicePort, ownMac, enabled: true);
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
                program.SetServer(configId, serverId, peer.Mac, self: false);
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

    // The interface's index and MAC, from sysfs (no shelling out).
    private static (int Index, byte[] Mac) Interface(string name)
    {
        string folder = Path.Combine("/sys/class/net", name);
        if (name.Contains('/', StringComparison.Ordinal) || !Directory.Exists(folder))
        {
            throw new SteeringException($"Mallard:Steering:Interface: there is no interface \"{name}\" here");
        }

        int index = int.Parse(File.ReadAllText(Path.Combine(folder, "ifindex")).Trim(), CultureInfo.InvariantCulture);
        byte[] mac = Convert.FromHexString(File.ReadAllText(Path.Combine(folder, "address")).Trim().Replace(":", string.Empty, StringComparison.Ordinal));
        return (index, mac);
    }
}
