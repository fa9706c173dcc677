using System.Net;

namespace Mallard.Steering;

/// <summary>
/// What steering knows of the way to peers on other segments: the interface's MTU and, by each
/// peer's underlay address, the MAC of the next hop towards it (<see cref="NextHopResolver"/>).
/// Written under the steerer's lock; readers take the dictionary as it is.
/// </summary>
internal sealed class NetworkPaths(NextHopResolver resolver, int mtu)
{
    private volatile Dictionary<IPAddress, byte[]> _nextHops = [];

    /// <summary>The interface's MTU (a wrapped frame's outer IP packet must fit).</summary>
    public int Mtu { get; } = mtu;

    /// <summary>The next hop's MAC by underlay address, for the peers resolved.</summary>
    public IReadOnlyDictionary<IPAddress, byte[]> NextHops => _nextHops;

    /// <summary>
    /// Looks up the next hop towards every peer with an address; an unknown neighbour is prompted
    /// and, with <paramref name="wait"/>, looked up again for up to a second. True when anything changed.
    /// </summary>
    public bool Resolve(SteeringSettings settings, bool wait)
    {
        IPAddress[] peers = [.. settings.Peers.Select(p => p.Address).OfType<IPAddress>().Distinct()];
        var found = new Dictionary<IPAddress, byte[]>();
        for (int attempt = 0; attempt < (wait ? 10 : 1); attempt++)
        {
            foreach (IPAddress peer in peers.Where(p => !found.ContainsKey(p)))
            {
                if (resolver.Resolve(peer) is byte[] mac)
                {
                    found[peer] = mac;
                }
                else if (settings.Encapsulation is not null)
                {
                    NextHopResolver.Prompt(peer, settings.Encapsulation);
                }
            }

            if (found.Count == peers.Length || !wait)
            {
                break;
            }

            Thread.Sleep(100);
        }

        Dictionary<IPAddress, byte[]> before = _nextHops;
        bool changed = found.Count != before.Count || found.Any(p => !before.TryGetValue(p.Key, out byte[]? mac) || !mac.AsSpan().SequenceEqual(p.Value));
        _nextHops = found;
        return changed;
    }
}
