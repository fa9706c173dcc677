using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;
using Mallard.Balancer.Routing;

namespace Mallard.Balancer.Metrics;

/// <summary>
/// The balancer's metric families: every routing branch, unroutable causes, relay events, live
/// flows and per-backend traffic and health. Published as System.Diagnostics.Metrics observable
/// instruments on the <see cref="LoadBalancer.MeterName"/> meter and as Prometheus text.
/// </summary>
internal static class BalancerMetrics
{
    /// <summary>The snake_case tag value of an enum member (ConnectionId becomes connection_id).</summary>
    public static string TagOf<T>(T value)
        where T : struct, Enum
    {
        string name = value.ToString();
        var tag = new StringBuilder(name.Length + 4);
        for (int i = 0; i < name.Length; i++)
        {
            if (char.IsUpper(name[i]) && i > 0)
            {
                tag.Append('_');
            }

            tag.Append(char.ToLowerInvariant(name[i]));
        }

        return tag.ToString();
    }

    public static IReadOnlyList<MetricFamily> Create(LoadBalancer balancer) =>
    [
        new("mallard.lb.packets", "{packet}", "Client datagrams by routing branch (draft-ietf-quic-load-balancers-21 section 3).", true,
            () => Values<RouteBranch>("branch", balancer.SumBranches())),
        new("mallard.lb.routed_by_config", "{packet}", "Datagrams routed by connection ID, by QUIC-LB config ID.", true,
            () => balancer.Snapshot.Settings.Configs.Select(c => (Tags(("config_id", c.ConfigId.ToString(CultureInfo.InvariantCulture))), balancer.Sum(r => r.RoutedByConfig)[c.ConfigId]))),
        new("mallard.lb.unroutable", "{packet}", "Datagrams whose connection ID did not route them, by cause.", true,
            () => Values<UnroutableCause>("cause", balancer.Sum(r => r.Unroutable))),
        new("mallard.lb.flows", "{flow}", "Relayed flows open now (each one upstream UDP port).", false,
            () => [(Tags(), balancer.ProxyCounters.LiveFlows)]),
        new("mallard.lb.relay_events", "{event}", "Flow and return-path events of the relay.", true,
            () => balancer.ProxyCounters.Events().Select(e => (Tags(("event", e.Event)), e.Count))),
        new("mallard.lb.backend.packets", "{packet}", "Datagrams relayed per backend and direction.", true,
            () => balancer.Backends.SelectMany(b => new[]
            {
                (Tags(("backend", b.Name), ("direction", "to_backend")), b.Counters.PacketsToBackend),
                (Tags(("backend", b.Name), ("direction", "from_backend")), b.Counters.PacketsFromBackend),
            })),
        new("mallard.lb.backend.bytes", "By", "Octets relayed per backend and direction.", true,
            () => balancer.Backends.SelectMany(b => new[]
            {
                (Tags(("backend", b.Name), ("direction", "to_backend")), b.Counters.BytesToBackend),
                (Tags(("backend", b.Name), ("direction", "from_backend")), b.Counters.BytesFromBackend),
            })),
        new("mallard.lb.backend.up", "{backend}", "1 when the backend takes traffic, 0 when it is down.", false,
            () => balancer.Backends.Select(b => (Tags(("backend", b.Name)), b.Health.IsUp ? 1L : 0L))),
    ];

    /// <summary>Creates one observable instrument per family on <paramref name="meter"/>.</summary>
    public static void Register(Meter meter, IEnumerable<MetricFamily> families)
    {
        foreach (MetricFamily family in families)
        {
            IEnumerable<Measurement<long>> Observe() => family.Read().Select(v => new Measurement<long>(v.Value, v.Tags));
            if (family.IsCounter)
            {
                meter.CreateObservableCounter(family.Name, Observe, family.Unit, family.Help);
            }
            else
            {
                meter.CreateObservableGauge(family.Name, Observe, family.Unit, family.Help);
            }
        }
    }

    private static IEnumerable<(KeyValuePair<string, object?>[], long)> Values<T>(string tag, long[] counts)
        where T : struct, Enum =>
        Enum.GetValues<T>().Select(v => (Tags((tag, TagOf(v))), counts[Convert.ToInt32(v, CultureInfo.InvariantCulture)]));

    private static KeyValuePair<string, object?>[] Tags(params (string Key, string Value)[] tags) =>
        [.. tags.Select(t => new KeyValuePair<string, object?>(t.Key, t.Value))];
}
