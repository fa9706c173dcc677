using System.Net;
using Mallard.QuicLb;

namespace Mallard.Balancer.Configuration;

/// <summary>One QUIC server behind the balancer.</summary>
/// <param name="Address">Where its datagrams go.</param>
/// <param name="Weight">Its share of new connections relative to the others; 0 takes none (draining).</param>
/// <param name="ServerIds">Its server ID under each QUIC-LB config ID.</param>
public sealed record BackendSettings(IPEndPoint Address, int Weight, IReadOnlyDictionary<int, ServerId> ServerIds)
{
    /// <summary>The address as text, used in logs and metrics.</summary>
    public string Name => Address.ToString();
}
