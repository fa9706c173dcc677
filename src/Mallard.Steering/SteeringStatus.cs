namespace Mallard.Steering;

/// <summary>The <c>/status</c> document of <c>mallard steer</c>.</summary>
/// <param name="Interface">Where the program is attached.</param>
/// <param name="Mode">native or generic (XDP), or user space.</param>
/// <param name="Mac">This server's MAC (the source of steered frames).</param>
/// <param name="ServicePort">The QUIC service's UDP port.</param>
/// <param name="ServerIds">This server's ID (hex) by configuration ID.</param>
/// <param name="Peers">Peers on the segment.</param>
/// <param name="Packets">Packets the XDP program judged, by branch (empty without XDP).</param>
/// <param name="UserSpace">Frames the user-space thread judged, by branch, then connection IDs learned and steered frames not forwarded.</param>
public sealed record SteeringStatus(
    string Interface,
    string Mode,
    string Mac,
    int ServicePort,
    IReadOnlyDictionary<string, string> ServerIds,
    int Peers,
    IReadOnlyDictionary<string, long> Packets,
    IReadOnlyDictionary<string, long> UserSpace)
{
    /// <summary>The kernel's account of the XDP program's runs (null without XDP; zeros unless <c>kernel.bpf_stats_enabled</c> is 1).</summary>
    public SteeringProgramTime? Program { get; init; }
}
