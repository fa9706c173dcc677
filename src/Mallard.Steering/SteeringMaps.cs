using System.Runtime.InteropServices;

namespace Mallard.Steering;

/// <summary>
/// The XDP program's map entries, byte for byte as mallard_steer.bpf.c declares them. The sizes
/// are checked against the loaded program's maps (<see cref="SteeringObject"/>), so a change on
/// one side that the other misses stops loading instead of corrupting entries.
/// </summary>
internal static class SteeringMaps
{
    public const int MaxConfigs = 7;
    public const int MaxServerId = 15;
    public const int MaxConnectionId = 20;

    /// <summary>
    /// struct settings: the service port (network order), this server's MAC, on or off, and for
    /// peers on other segments the VXLAN port (network order), the VXLAN header's second word
    /// (network order), this server's underlay address (network order; 0: none) and the
    /// interface's MTU.
    /// </summary>
    [StructLayout(LayoutKind.Sequential, Size = 24)]
    public unsafe struct Settings
    {
        public ushort ServicePort;
        public fixed byte OwnMac[6];
        public byte Enabled;
        public byte Padding;
        public ushort VxlanPort;
        public uint VxlanWord;
        public uint UnderlayAddress;
        public ushort UnderlayMtu;
    }

    /// <summary>struct lb_config: one QUIC-LB configuration by its rotation codepoint.</summary>
    [StructLayout(LayoutKind.Sequential, Size = 4)]
    public struct Config
    {
        public byte Present;
        public byte ServerIdLength;
        public byte ConnectionIdLength;
        public byte Encrypted;
    }

    /// <summary>struct server_key: a server ID under a configuration.</summary>
    [StructLayout(LayoutKind.Sequential, Size = 18)]
    public unsafe struct ServerKey
    {
        public byte ConfigId;
        public byte Length;
        public fixed byte Id[MaxServerId];
    }

    /// <summary>struct cid_key: a whole destination connection ID (learned map).</summary>
    [StructLayout(LayoutKind.Sequential, Size = 24)]
    public unsafe struct ConnectionIdKey
    {
        public byte Length;
        public fixed byte Id[MaxConnectionId];
    }

    /// <summary>
    /// struct target: where a server is (its MAC on the segment, or its VXLAN device's MAC, its
    /// underlay address in network order and the next hop's MAC towards it); <c>Self</c> for this one.
    /// </summary>
    [StructLayout(LayoutKind.Sequential, Size = 20)]
    public unsafe struct Target
    {
        public fixed byte Mac[6];
        public byte Self;
        public byte Padding;
        public uint UnderlayAddress;
        public fixed byte NextHop[6];
    }

    /// <summary>struct mac_key: another server's MAC (frames from it are not steered again).</summary>
    [StructLayout(LayoutKind.Sequential, Size = 8)]
    public unsafe struct MacKey
    {
        public fixed byte Mac[6];
    }
}
