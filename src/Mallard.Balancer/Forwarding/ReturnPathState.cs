using System.Net;
using Mallard.Balancer.Routing;

namespace Mallard.Balancer.Forwarding;

/// <summary>
/// Where a per-connection flow sends the backend's replies when its client's address changes,
/// and how far an address that has not yet proved itself may be trusted. The balancer cannot
/// read QUIC's path validation, so it judges addresses by what it sees:
/// <list type="bullet">
/// <item>An address is <em>validated</em> when it opened the flow, or when it has been the return
/// path for the hold time without any validated address speaking (a NAT rebinding: the old
/// address falls silent, the new one carries the connection). The newest
/// <see cref="MaxValidated"/> are remembered.</item>
/// <item>A validated address that speaks takes the return path at once: the real client regains
/// its replies with its first datagram, however often another address speaks.</item>
/// <item>Another address takes the return path only once the current one has been silent for
/// the hold time; until it is validated it receives at most <see cref="AmplificationFactor"/>
/// times the octets it sent (RFC 9000 section 8), and replies beyond that go to the last
/// validated address.</item>
/// </list>
/// Thread-safe: client datagrams arrive on any forwarding thread, replies on one.
/// </summary>
internal sealed class ReturnPathState
{
    /// <summary>An unvalidated address receives at most this many times what it sent.</summary>
    public const int AmplificationFactor = 3;

    /// <summary>Validated addresses remembered per flow.</summary>
    public const int MaxValidated = 4;

    private readonly Lock _gate = new();
    private readonly List<ReturnPath> _validated = [];
    private Tenure _current;

    public ReturnPathState(ReturnPath first, long now)
    {
        _validated.Add(first);
        _current = new Tenure(first, validated: true, fallback: null, now, received: 0);
    }

    /// <summary>What a client datagram did to the return path.</summary>
    public enum Change
    {
        /// <summary>It came from the current return path.</summary>
        None,

        /// <summary>The return path moved to a new, not yet validated address.</summary>
        Moved,

        /// <summary>A validated address took the return path back.</summary>
        Regained,

        /// <summary>A new address spoke while the current one was not silent; nothing moved.</summary>
        Held,
    }

    /// <summary>The current return path.</summary>
    public ReturnPath Current => Volatile.Read(ref _current).Path;

    /// <summary>Applies the rule to a client datagram of <paramref name="length"/> octets from <paramref name="client"/>.</summary>
    public Change OnClientDatagram(in EndpointKey client, SocketAddress received, int length, long now, long holdMilliseconds)
    {
        Tenure current = Volatile.Read(ref _current);
        if (current.Path.Key == client)
        {
            current.Heard(length, now);
            return Change.None;
        }

        lock (_gate)
        {
            current = _current;
            if (current.Path.Key == client)
            {
                current.Heard(length, now);
                return Change.None;
            }

            ValidateIfDue(current, now, holdMilliseconds);
            foreach (ReturnPath known in _validated)
            {
                if (known.Key == client)
                {
                    Volatile.Write(ref _current, new Tenure(known, validated: true, fallback: null, now, length));
                    return Change.Regained;
                }
            }

            if (now - current.LastHeard < holdMilliseconds)
            {
                return Change.Held;
            }

            ReturnPath? fallback = current.Validated ? current.Path : current.Fallback;
            Volatile.Write(ref _current, new Tenure(ReturnPath.CopyOf(client, received), validated: false, fallback, now, length));
            return Change.Moved;
        }
    }

    /// <summary>Where a reply of <paramref name="length"/> octets goes: the return path, or the last validated address when an unvalidated one has used up its allowance.</summary>
    public SocketAddress ReplyDestination(int length, long now, long holdMilliseconds)
    {
        Tenure current = Volatile.Read(ref _current);
        if (current.Validated || now - current.Since >= holdMilliseconds || current.TrySpend(length))
        {
            return current.Path.Address;
        }

        return (current.Fallback ?? current.Path).Address;
    }

    private void ValidateIfDue(Tenure current, long now, long holdMilliseconds)
    {
        if (current.Validated || now - current.Since < holdMilliseconds)
        {
            return;
        }

        current.Validated = true;
        _validated.Add(current.Path);
        if (_validated.Count > MaxValidated)
        {
            _validated.RemoveAt(0);
        }
    }

    /// <summary>One address's time as the return path.</summary>
    private sealed class Tenure(ReturnPath path, bool validated, ReturnPath? fallback, long since, long received)
    {
        private long _lastHeard = since;
        private long _received = received;
        private long _sent;

        public ReturnPath Path { get; } = path;

        public ReturnPath? Fallback { get; } = fallback;

        public long Since { get; } = since;

        /// <summary>Set under the state's lock; a reply thread that reads it late only applies the allowance a moment longer.</summary>
        public bool Validated { get; set; } = validated;

        public long LastHeard => Volatile.Read(ref _lastHeard);

        public void Heard(int length, long now)
        {
            Volatile.Write(ref _lastHeard, now);
            if (!Validated)
            {
                // Only an unvalidated address has an allowance to count; the usual path (per-client-address
                // mode, a settled client) pays no interlocked add per packet.
                Interlocked.Add(ref _received, length);
            }
        }

        /// <summary>Takes <paramref name="length"/> from the allowance; false (and nothing taken) when it does not fit.</summary>
        public bool TrySpend(int length)
        {
            long allowance = AmplificationFactor * Volatile.Read(ref _received);
            if (Interlocked.Add(ref _sent, length) <= allowance)
            {
                return true;
            }

            Interlocked.Add(ref _sent, -length);
            return false;
        }
    }
}
