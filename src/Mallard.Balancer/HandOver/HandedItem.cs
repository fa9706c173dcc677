using System.Net;
using Mallard.Balancer.Routing;

namespace Mallard.Balancer.HandOver;

/// <summary>
/// One socket a balancer hands to its successor, with what the successor needs to use it: a
/// listening socket of the listener configured as <see cref="Listener"/>, or a flow's upstream
/// socket with the flow's state. The descriptor itself travels beside it (SCM_RIGHTS).
/// </summary>
internal sealed record HandedItem(string Listener)
{
    /// <summary>Whether this is a flow's upstream socket (otherwise a listening socket).</summary>
    public bool IsFlow => Backend is not null;

    /// <summary>The flow's client address, where its replies go now.</summary>
    public SocketAddress? Client { get; init; }

    /// <summary>The flow's backend.</summary>
    public IPEndPoint? Backend { get; init; }

    /// <summary>Whether the backend has answered on the flow.</summary>
    public bool Answered { get; init; }

    /// <summary>How long the flow had been idle when it was handed over.</summary>
    public long IdleMilliseconds { get; init; }

    /// <summary>The connection IDs the flow is known by (per-connection return path).</summary>
    public IReadOnlyList<ConnectionIdKey> ConnectionIds { get; init; } = [];
}
