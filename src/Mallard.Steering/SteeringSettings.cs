using Mallard.QuicLb;

namespace Mallard.Steering;

/// <summary>A validated steering configuration (<see cref="SteeringConfigLoader"/>).</summary>
/// <param name="Interface">The interface the 4-tuple tier's packets arrive on.</param>
/// <param name="ServicePort">The QUIC service's UDP port.</param>
/// <param name="Mode">How the XDP program is attached.</param>
/// <param name="Configs">The QUIC-LB configurations (the balancer's <c>Configs</c> section).</param>
/// <param name="ServerIds">This server's ID by configuration ID.</param>
/// <param name="Peers">The other servers on the segment.</param>
public sealed record SteeringSettings(
    string Interface,
    int ServicePort,
    SteeringMode Mode,
    IReadOnlyList<QuicLbConfig> Configs,
    IReadOnlyDictionary<int, byte[]> ServerIds,
    IReadOnlyList<SteeringPeer> Peers)
{
    /// <summary>Where <c>/metrics</c> and <c>/status</c> are served, or null (<c>off</c>).</summary>
    public System.Net.IPEndPoint? Admin { get; init; }

    /// <summary>VXLAN towards peers on other segments (those with an address), or null when every peer is on this segment.</summary>
    public SteeringEncapsulation? Encapsulation { get; init; }
}
