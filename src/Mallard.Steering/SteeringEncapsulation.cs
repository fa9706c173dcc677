using System.Net;

namespace Mallard.Steering;

/// <summary>
/// How frames reach peers on other L2 segments: wrapped in VXLAN (RFC 7348) from this server's
/// underlay <paramref name="Address"/> to the peer's, UDP port <paramref name="Port"/>, network
/// identifier <paramref name="Vni"/>; each peer's kernel VXLAN device with that VNI and port
/// unwraps them. IPv4 underlay (this kernel has VXLAN but no IPIP, FOU or GRE).
/// </summary>
public sealed record SteeringEncapsulation(IPAddress Address, int Vni, int Port)
{
    /// <summary>The IANA VXLAN port.</summary>
    public const int DefaultPort = 4789;

    /// <summary>The VNI used unless configured: "ML" in ASCII.</summary>
    public const int DefaultVni = 0x4d4c;
}
