using System.Net.Sockets;

namespace Mallard.Linux;

/// <summary>
/// Sets IP_MTU_DISCOVER / IPV6_MTU_DISCOVER to IP_PMTUDISC_PROBE on a UDP socket: every datagram
/// leaves with Don't Fragment and is never cut into IP fragments, and one too large for the
/// interface fails with EMSGSIZE; the kernel's ICMP-based path MTU estimate is ignored. QUIC
/// forbids IP fragmentation (RFC 9000 section 14) and finds the path MTU itself with probes
/// (RFC 8899), which only tells the truth when an oversized probe is dropped rather than carried
/// in fragments — by the endpoint and by a balancer relaying it.
/// </summary>
internal static class DontFragment
{
    private const int IpProtocolIp = 0;
    private const int IpProtocolIpv6 = 41;
    private const int IpMtuDiscover = 10;
    private const int Ipv6MtuDiscover = 23;
    private const int PathMtuDiscoveryProbe = 3;

    /// <summary>Applies the option on Linux (both families on a dual-mode socket); elsewhere, or when refused, the kernel's default stays.</summary>
    public static void Apply(Socket socket)
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        ReadOnlySpan<byte> probe = BitConverter.GetBytes(PathMtuDiscoveryProbe);
        try
        {
            if (socket.AddressFamily == AddressFamily.InterNetworkV6)
            {
                socket.SetRawSocketOption(IpProtocolIpv6, Ipv6MtuDiscover, probe);
            }

            if (socket.AddressFamily == AddressFamily.InterNetwork || socket.DualMode)
            {
                socket.SetRawSocketOption(IpProtocolIp, IpMtuDiscover, probe);
            }
        }
        catch (SocketException)
        {
        }
    }
}
