namespace Mallard.Steering;

/// <summary>Another server on the segment: its MAC address and its server ID under each QUIC-LB configuration.</summary>
/// <param name="Mac">Its six-octet MAC address.</param>
/// <param name="ServerIds">Its server ID by configuration ID.</param>
public sealed record SteeringPeer(byte[] Mac, IReadOnlyDictionary<int, byte[]> ServerIds);
