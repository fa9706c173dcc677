using Mallard.Balancer.Configuration;
using Mallard.Balancer.Metrics;
using Mallard.QuicLb;
using Mallard.QuicLb.Invariants;

namespace Mallard.Balancer.Routing;

/// <summary>
/// Decides where each client datagram goes, following draft-ietf-quic-load-balancers-21 section 3
/// ("Load Balancer Forwarding"): a routable destination connection ID goes to the backend that owns
/// its server ID; otherwise long headers try the (4-tuple, SCID) and DCID tables, then any packet
/// the 4-tuple table, then Maglev on the client-chosen DCID (Initial, 0-RTT) or on the 4-tuple.
/// Sans-IO and single-threaded: one router per forwarding thread, fed the time by its caller.
/// Never throws on packet content.
/// </summary>
internal sealed class PacketRouter
{
    /// <summary>
    /// The smallest short-header packet that can be valid QUIC v1: with every AEAD of RFC 9001,
    /// a shorter one cannot be protected (RFC 9000 section 10.3).
    /// </summary>
    public const int MinShortHeaderPacket = 21;

    /// <summary>The smallest datagram that may carry a client Initial (RFC 9000 section 14.1).</summary>
    public const int MinInitialDatagram = 1200;

    // Fallback hashes use fixed seeds so that every balancer in a tier agrees.
    private const ulong ClientAddressSeed = 0x636c69656e742d61UL;
    private const ulong ConnectionIdSeed = 0x636f6e6e2d69642dUL;

    private readonly RoutingState _state;
    private RoutingSnapshot _snapshot;
    private FallbackSettings _tableSettings;
    private DecisionTable<SourceConnectionIdKey> _bySource;
    private DecisionTable<ConnectionIdKey> _byDestination;
    private DecisionTable<EndpointKey> _byClient;

    public PacketRouter(RoutingState state)
    {
        _state = state;
        _snapshot = state.Current;
        _tableSettings = _snapshot.Settings.Fallback;
        (_bySource, _byDestination, _byClient) = CreateTables(_tableSettings);
    }

    public RoutingCounters Counters { get; } = new();

    /// <summary>Entries in the three decision tables.</summary>
    public int TableEntries => _bySource.Count + _byDestination.Count + _byClient.Count;

    /// <summary>Decisions not stored because a table was full.</summary>
    public long TableOverflows => _bySource.Overflows + _byDestination.Overflows + _byClient.Overflows;

    /// <summary>Routes one datagram from <paramref name="client"/> received at <paramref name="nowMilliseconds"/>.</summary>
    public RouteDecision Route(ReadOnlySpan<byte> datagram, in EndpointKey client, long nowMilliseconds)
    {
        RoutingSnapshot snapshot = _state.Current;
        if (!ReferenceEquals(snapshot, _snapshot))
        {
            Adopt(snapshot);
        }

        if (datagram.IsEmpty)
        {
            return Drop(RouteBranch.Malformed);
        }

        return (datagram[0] & 0x80) == 0
            ? RouteShortHeader(datagram, client, nowMilliseconds)
            : RouteLongHeader(datagram, client, nowMilliseconds);
    }

    /// <summary>Counts a client datagram too large to relay as malformed: QUIC never needs one that large here.</summary>
    public void CountOversized() => Counters.Branches[(int)RouteBranch.Malformed]++;

    /// <summary>Removes idle decisions; the forwarding thread calls this about once a second.</summary>
    public int Sweep(long nowMilliseconds) =>
        _bySource.Sweep(nowMilliseconds) + _byDestination.Sweep(nowMilliseconds) + _byClient.Sweep(nowMilliseconds);

    private RouteDecision RouteShortHeader(ReadOnlySpan<byte> datagram, in EndpointKey client, long now)
    {
        if (datagram.Length < MinShortHeaderPacket)
        {
            return Drop(RouteBranch.Malformed);
        }

        if (_snapshot.RoutesByConnectionId)
        {
            // A short header does not carry the DCID length; the decoder reads it from the
            // config ID bits and ignores the octets after the connection ID.
            ReadOnlySpan<byte> afterFirstOctet = datagram[1..];
            Backend? owner = Owner(afterFirstOctet);
            if (owner is not null)
            {
                int length = Math.Max(_snapshot.Decoder.GetConnectionIdLength(afterFirstOctet[0]), 0);
                return Routed(owner, afterFirstOctet[..length]);
            }
        }

        return ByClientAddress(client, now);
    }

    private RouteDecision RouteLongHeader(ReadOnlySpan<byte> datagram, in EndpointKey client, long now)
    {
        if (QuicHeaderReader.TryRead(datagram, 0, out QuicPacketHeader header) != QuicHeaderError.None)
        {
            return Drop(RouteBranch.Malformed);
        }

        if (header.PacketType == QuicPacketType.Initial && datagram.Length < MinInitialDatagram)
        {
            return Drop(RouteBranch.SmallInitial);
        }

        // Unknown versions and Version Negotiation go through the fallback untouched: their
        // connection IDs follow no QUIC-LB rules we can assume.
        bool knownVersion = header.Version is QuicVersion.V1 or QuicVersion.V2;
        if (!knownVersion || !_snapshot.RoutesByConnectionId)
        {
            return ByClientAddress(client, now);
        }

        Backend? owner = Owner(header.DestinationConnectionId);
        if (owner is not null)
        {
            return Routed(owner, header.DestinationConnectionId);
        }

        var sourceKey = new SourceConnectionIdKey(client, new ConnectionIdKey(header.SourceConnectionId));
        var destinationKey = new ConnectionIdKey(header.DestinationConnectionId);
        RouteBranch branch;
        Backend? backend;
        if ((backend = _bySource.Lookup(sourceKey, now)) is not null)
        {
            branch = RouteBranch.SourceConnectionIdTable;
        }
        else if ((backend = _byDestination.Lookup(destinationKey, now)) is not null)
        {
            branch = RouteBranch.DestinationConnectionIdTable;
        }
        else if ((backend = _byClient.Lookup(client, now)) is not null)
        {
            branch = RouteBranch.ClientAddressTable;
        }
        else if (header.PacketType is QuicPacketType.Initial or QuicPacketType.ZeroRtt)
        {
            // Hash the client-chosen DCID, so retransmitted Initials and 0-RTT packets of the
            // same connection attempt land together whatever their source port.
            backend = _snapshot.Fallback(destinationKey.StableHash(ConnectionIdSeed));
            branch = RouteBranch.FallbackConnectionId;
        }
        else
        {
            backend = _snapshot.Fallback(client.StableHash(ClientAddressSeed));
            branch = RouteBranch.FallbackClientAddress;
        }

        if (backend is null)
        {
            return Drop(RouteBranch.NoBackend);
        }

        _bySource.Record(sourceKey, backend, now);
        _byDestination.Record(destinationKey, backend, now);
        _byClient.Record(client, backend, now);
        Counters.Branches[(int)branch]++;
        return new RouteDecision(backend, branch, default);
    }

    // The usable backend that owns the server ID in this connection ID, counting why not.
    private Backend? Owner(ReadOnlySpan<byte> connectionId)
    {
        QuicLbDecodeResult decoded = _snapshot.Decoder.Decode(connectionId);
        if (!decoded.IsRoutable)
        {
            Counters.Unroutable[(int)(decoded.Reason switch
            {
                UnroutableReason.UnroutableConfigId => UnroutableCause.UnroutableConfigId,
                UnroutableReason.UnknownConfigId => UnroutableCause.UnknownConfigId,
                _ => UnroutableCause.TooShort,
            })]++;
            return null;
        }

        Backend? owner = _snapshot.Owner(decoded.ConfigId, decoded.ServerId);
        if (owner is null || !owner.IsUsable)
        {
            Counters.Unroutable[(int)(owner is null ? UnroutableCause.UnknownServerId : UnroutableCause.BackendDown)]++;
            return null;
        }

        Counters.RoutedByConfig[decoded.ConfigId]++;
        return owner;
    }

    private RouteDecision Routed(Backend owner, ReadOnlySpan<byte> connectionId)
    {
        Counters.Branches[(int)RouteBranch.ConnectionId]++;
        return new RouteDecision(owner, RouteBranch.ConnectionId, new ConnectionIdKey(connectionId));
    }

    private RouteDecision ByClientAddress(in EndpointKey client, long now)
    {
        RouteBranch branch = RouteBranch.ClientAddressTable;
        Backend? backend = _byClient.Lookup(client, now);
        if (backend is null)
        {
            backend = _snapshot.Fallback(client.StableHash(ClientAddressSeed));
            if (backend is null)
            {
                return Drop(RouteBranch.NoBackend);
            }

            branch = RouteBranch.FallbackClientAddress;
        }

        _byClient.Record(client, backend, now);
        Counters.Branches[(int)branch]++;
        return new RouteDecision(backend, branch, default);
    }

    private RouteDecision Drop(RouteBranch branch)
    {
        Counters.Branches[(int)branch]++;
        return new RouteDecision(null, branch, default);
    }

    private void Adopt(RoutingSnapshot snapshot)
    {
        _snapshot = snapshot;
        if (snapshot.Settings.Fallback != _tableSettings)
        {
            _tableSettings = snapshot.Settings.Fallback;
            (_bySource, _byDestination, _byClient) = CreateTables(_tableSettings);
        }
    }

    private static (DecisionTable<SourceConnectionIdKey>, DecisionTable<ConnectionIdKey>, DecisionTable<EndpointKey>) CreateTables(FallbackSettings settings) =>
        (new(settings.MaxTableEntries, settings.FlowIdleTimeout),
         new(settings.MaxTableEntries, settings.FlowIdleTimeout),
         new(settings.MaxTableEntries, settings.FlowIdleTimeout));
}
