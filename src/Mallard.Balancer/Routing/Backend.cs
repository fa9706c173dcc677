using System.Net;
using Mallard.Balancer.Configuration;
using Mallard.Balancer.Health;
using Mallard.Balancer.Metrics;

namespace Mallard.Balancer.Routing;

/// <summary>
/// A backend as one routing snapshot sees it: its settings, plus health and counters that live
/// as long as its address stays configured, so a reload that keeps a backend keeps its state.
/// </summary>
public sealed class Backend
{
    internal Backend(BackendSettings settings, BackendHealth health, BackendCounters counters)
    {
        Settings = settings;
        Health = health;
        Counters = counters;
        SocketAddress = settings.Address.Serialize();
        Key = EndpointKey.From(SocketAddress);
    }

    /// <summary>The configured backend.</summary>
    public BackendSettings Settings { get; }

    /// <summary>Address and port as text.</summary>
    public string Name => Settings.Name;

    /// <summary>Where datagrams go.</summary>
    public IPEndPoint Address => Settings.Address;

    /// <summary>Health, shared across reloads.</summary>
    public BackendHealth Health { get; }

    /// <summary>Traffic counters, shared across reloads.</summary>
    public BackendCounters Counters { get; }

    /// <summary>
    /// Set when a reload removes this backend's address; flows and table entries that name it
    /// are dropped. Kept with the shared health state, so every snapshot's object for the same
    /// address sees it.
    /// </summary>
    public bool IsRetired => Health.IsRemoved;

    /// <summary>Up and still configured.</summary>
    public bool IsUsable => Health.IsUp && !IsRetired;

    internal SocketAddress SocketAddress { get; }

    internal EndpointKey Key { get; }
}
