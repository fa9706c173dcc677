using Mallard.Balancer.Configuration;
using Mallard.QuicLb;

namespace Mallard.Balancer.Routing;

/// <summary>
/// Everything a forwarding thread needs to route a packet, immutable: the QUIC-LB decoder, the
/// server-ID owners per config, the backends and the Maglev table over the usable ones. The
/// control plane builds a new snapshot on reload or health change and swaps it in whole
/// (docs/architecture.md, principle 4).
/// </summary>
internal sealed class RoutingSnapshot
{
    private readonly Dictionary<ServerId, Backend>?[] _owners = new Dictionary<ServerId, Backend>?[QuicLbConfig.MaxConfigId + 1];
    private readonly Backend[] _maglevBackends;
    private readonly MaglevTable _maglev;
    private readonly bool _failOpen;

    public RoutingSnapshot(BalancerSettings settings, IReadOnlyList<Backend> backends, long generation)
    {
        Settings = settings;
        Backends = backends;
        Generation = generation;
        Decoder = new ConnectionIdDecoder(settings.Configs);
        foreach (Backend backend in backends)
        {
            foreach ((int configId, ServerId serverId) in backend.Settings.ServerIds)
            {
                (_owners[configId] ??= []).Add(serverId, backend);
            }
        }

        // New connections go to usable backends only; if none is usable, fail open to all of
        // them rather than drop everything (a health checker that cannot reach any backend is
        // more often wrong than every backend being down). Weight 0 drains a backend.
        Backend[] usable = [.. backends.Where(b => b.Health.IsUp && b.Settings.Weight > 0)];
        _failOpen = usable.Length == 0;
        // Sorted by name so balancers whose configs list backends in another order still agree.
        _maglevBackends = [.. (usable.Length > 0 ? usable : backends.Where(b => b.Settings.Weight > 0)).OrderBy(b => b.Name, StringComparer.Ordinal)];
        _maglev = MaglevTable.Build(
            [.. _maglevBackends.Select(b => b.Name)],
            [.. _maglevBackends.Select(b => b.Settings.Weight)],
            settings.Fallback.TableSize);
    }

    public BalancerSettings Settings { get; }

    public IReadOnlyList<Backend> Backends { get; }

    /// <summary>Increases with every snapshot the control plane builds.</summary>
    public long Generation { get; }

    public ConnectionIdDecoder Decoder { get; }

    public bool RoutesByConnectionId => Settings.RouteBy == RouteBy.ConnectionId;

    /// <summary>The backend that owns <paramref name="serverId"/> under <paramref name="configId"/>, if any.</summary>
    public Backend? Owner(int configId, ServerId serverId)
    {
        Dictionary<ServerId, Backend>? owners = _owners[configId];
        return owners is not null && owners.TryGetValue(serverId, out Backend? backend) ? backend : null;
    }

    /// <summary>
    /// The Maglev choice for a flow hash. A backend that went down after this snapshot was built
    /// (the control plane is about to publish the next one) is passed over for the next slots.
    /// </summary>
    public Backend? Fallback(ulong hash)
    {
        int index = _maglev.Lookup(hash);
        if (index < 0)
        {
            return null;
        }

        Backend choice = _maglevBackends[index];
        for (ulong step = 1; !_failOpen && !choice.IsUsable && step <= 8; step++)
        {
            choice = _maglevBackends[_maglev.Lookup(hash + (step * 0x9E3779B97F4A7C15UL))];
        }

        return choice;
    }

    /// <summary>How many Maglev slots each backend holds, by name (status page).</summary>
    public IReadOnlyDictionary<string, int> MaglevShares()
    {
        int[] counts = _maglev.CountSlots(_maglevBackends.Length);
        return _maglevBackends.Select((b, i) => (b.Name, counts[i])).ToDictionary(p => p.Name, p => p.Item2);
    }
}
