namespace Mallard.Steering;

/// <summary>Another server on the segment: its MAC address and its server ID under each QUIC-LB configuration.</summary>
/// <param name="Mac">Its six-octet MAC address.</param>
/// <param name="ServerIds">Its server ID by configuration ID.</param>
public sealed record SteeringPeer(byte[] Mac, IReadOnlyDictionary<int, byte[]> ServerIds)
{
    /// <summary>
    /// The peer's underlay address when it is on another L2 segment: frames for it are wrapped in
    /// VXLAN to this address, and <see cref="Mac"/> is its VXLAN device's MAC. Null on this segment.
    /// </summary>
    public System.Net.IPAddress? Address { get; init; }
}
