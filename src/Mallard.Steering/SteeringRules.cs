using System.Buffers.Binary;
using Mallard.QuicLb;

namespace Mallard.Steering;

/// <summary>
/// The steering rules of mallard_steer.bpf.c, in user space: the same parsing (Ethernet, IPv4
/// without fragments or IPv6 with UDP next, UDP to the service port, the QUIC header of RFC 8999)
/// and the same branches, but every configuration is decoded here, encrypted ones included
/// (Mallard.QuicLb). Immutable: a reload builds a new one. Allocates nothing per frame.
/// </summary>
internal sealed class SteeringRules
{
    private const int EthernetLength = 14;

    private readonly ushort _servicePort;
    private readonly ConnectionIdDecoder _decoder;
    private readonly Dictionary<(int ConfigId, ServerId Id), SteeringTarget> _servers;
    private readonly HashSet<ulong> _peers;

    private SteeringRules(ushort servicePort, byte[] ownMac, ConnectionIdDecoder decoder, Dictionary<(int, ServerId), SteeringTarget> servers, HashSet<ulong> peers, SteeringEncapsulation? encapsulation)
    {
        Encapsulation = encapsulation;
        _servicePort = servicePort;
        OwnMac = ownMac;
        _decoder = decoder;
        _servers = servers;
        _peers = peers;
    }

    /// <summary>VXLAN towards peers on other segments, or null.</summary>
    public SteeringEncapsulation? Encapsulation { get; }

    /// <summary>This server's MAC: the source of steered frames.</summary>
    public byte[] OwnMac { get; }

    /// <summary>
    /// The rules of <paramref name="settings"/> for a server whose interface has
    /// <paramref name="ownMac"/>; <paramref name="nextHops"/> gives the MAC towards each peer on
    /// another segment, by its underlay address, as far as resolved.
    /// </summary>
    public static SteeringRules From(SteeringSettings settings, byte[] ownMac, IReadOnlyDictionary<System.Net.IPAddress, byte[]>? nextHops = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var servers = new Dictionary<(int, ServerId), SteeringTarget>();
        foreach ((int configId, byte[] id) in settings.ServerIds)
        {
            servers[(configId, new ServerId(id))] = SteeringTarget.Self;
        }

        var peers = new HashSet<ulong>();
        foreach (SteeringPeer peer in settings.Peers)
        {
            ulong mac = SteeringTarget.MacOf(peer.Mac);
            peers.Add(mac);
            foreach ((int configId, byte[] id) in peer.ServerIds)
            {
                ulong nextHop = peer.Address is not null && nextHops?.GetValueOrDefault(peer.Address) is byte[] hop ? SteeringTarget.MacOf(hop) : 0;
                servers[(configId, new ServerId(id))] = new SteeringTarget(mac, false, peer.Address, nextHop);
            }
        }

        return new SteeringRules((ushort)settings.ServicePort, ownMac, new ConnectionIdDecoder(settings.Configs), servers, peers, settings.Encapsulation);
    }

    /// <summary>Judges one Ethernet frame (as much of it as was captured; the headers are enough).</summary>
    public SteeringVerdict Judge(ReadOnlySpan<byte> frame)
    {
        if (frame.Length < EthernetLength + 20)
        {
            return SteeringVerdict.Pass(SteeringBranch.NotIp);
        }

        int udp;
        ushort etherType = BinaryPrimitives.ReadUInt16BigEndian(frame[12..]);
        if (etherType == 0x0800)
        {
            int headerLength = (frame[EthernetLength] & 0x0f) * 4;
            if (headerLength < 20)
            {
                return SteeringVerdict.Pass(SteeringBranch.NotIp);
            }

            // Fragments (MF set or an offset) carry no whole UDP header to judge by.
            if (frame[EthernetLength + 9] != 17 || (BinaryPrimitives.ReadUInt16BigEndian(frame[(EthernetLength + 6)..]) & 0x3fff) != 0)
            {
                return SteeringVerdict.Pass(SteeringBranch.NotService);
            }

            udp = EthernetLength + headerLength;
        }
        else if (etherType == 0x86dd)
        {
            if (frame.Length < EthernetLength + 40)
            {
                return SteeringVerdict.Pass(SteeringBranch.NotIp);
            }

            if (frame[EthernetLength + 6] != 17)
            {
                return SteeringVerdict.Pass(SteeringBranch.NotService);
            }

            udp = EthernetLength + 40;
        }
        else
        {
            return SteeringVerdict.Pass(SteeringBranch.NotIp);
        }

        if (frame.Length < udp + 8 || BinaryPrimitives.ReadUInt16BigEndian(frame[(udp + 2)..]) != _servicePort)
        {
            return SteeringVerdict.Pass(SteeringBranch.NotService);
        }

        if (_peers.Contains(SteeringTarget.MacOf(frame[6..])))
        {
            return SteeringVerdict.Pass(SteeringBranch.FromPeer);
        }

        int quic = udp + 8;
        if (frame.Length < quic + 1)
        {
            return SteeringVerdict.Pass(SteeringBranch.Malformed);
        }

        byte first = frame[quic];
        int cid;
        int cidLength = 0;
        if ((first & 0x80) != 0)
        {
            if (frame.Length < quic + 6)
            {
                return SteeringVerdict.Pass(SteeringBranch.Malformed);
            }

            // Version Negotiation, and in QUIC v1 the Initial, 0-RTT and Retry packets: their
            // destination connection ID is the client's choice; the tier's choice of server stands.
            uint version = BinaryPrimitives.ReadUInt32BigEndian(frame[(quic + 1)..]);
            if (version == 0 || (version == 1 && ((first >> 4) & 3) != 2))
            {
                return SteeringVerdict.Pass(SteeringBranch.Initial);
            }

            cidLength = frame[quic + 5];
            if (cidLength is 0 or > SteeringMaps.MaxConnectionId)
            {
                return SteeringVerdict.Pass(SteeringBranch.Malformed);
            }

            cid = quic + 6;
        }
        else
        {
            cid = quic + 1;
        }

        if (frame.Length < cid + 1)
        {
            return SteeringVerdict.Pass(SteeringBranch.Malformed);
        }

        int configId = frame[cid] >> 5;
        if (configId == QuicLbConfig.UnroutableConfigId)
        {
            return SteeringVerdict.Pass(SteeringBranch.Unroutable);
        }

        QuicLbConfig? config = _decoder.GetConfig(configId);
        if (config is null)
        {
            return SteeringVerdict.Pass(SteeringBranch.UnknownConfig);
        }

        cidLength = cidLength == 0 ? config.ConnectionIdLength : cidLength;
        if (cidLength < 1 + config.ServerIdLength || frame.Length < cid + cidLength)
        {
            return SteeringVerdict.Pass(SteeringBranch.Malformed);
        }

        // An encrypted ID too short for its cipher: the program cannot tell (it queues the frame
        // for user space), and here it is no ID of this fleet.
        bool encrypted = config.Algorithm != QuicLbAlgorithm.Plaintext;
        QuicLbDecodeResult decoded = _decoder.Decode(frame.Slice(cid, cidLength));
        if (!decoded.IsRoutable)
        {
            return new SteeringVerdict(SteeringBranch.Malformed, default, cid, cidLength, encrypted);
        }

        if (!_servers.TryGetValue((configId, decoded.ServerId), out SteeringTarget target))
        {
            return new SteeringVerdict(SteeringBranch.UnknownServer, default, cid, cidLength, encrypted);
        }

        return new SteeringVerdict(target.IsSelf ? SteeringBranch.Own : SteeringBranch.Steered, target, cid, cidLength, encrypted);
    }
}
