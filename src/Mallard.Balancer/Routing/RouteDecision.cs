using System.Runtime.InteropServices;

namespace Mallard.Balancer.Routing;

/// <summary>The router's answer for one packet.</summary>
[StructLayout(LayoutKind.Auto)]
internal readonly struct RouteDecision
{
    public RouteDecision(Backend? backend, RouteBranch branch, ConnectionIdKey routedConnectionId)
    {
        Backend = backend;
        Branch = branch;
        RoutedConnectionId = routedConnectionId;
    }

    /// <summary>Where the packet goes; null when it is dropped.</summary>
    public Backend? Backend { get; }

    public RouteBranch Branch { get; }

    /// <summary>The destination connection ID, when <see cref="Branch"/> is <see cref="RouteBranch.ConnectionId"/>.</summary>
    public ConnectionIdKey RoutedConnectionId { get; }

    public bool IsDropped => Backend is null;
}
