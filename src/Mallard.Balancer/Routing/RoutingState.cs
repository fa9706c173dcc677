namespace Mallard.Balancer.Routing;

/// <summary>The current routing snapshot, swapped atomically by the control plane and read by every forwarding thread.</summary>
internal sealed class RoutingState
{
    private RoutingSnapshot _current;

    public RoutingState(RoutingSnapshot initial) => _current = initial;

    public RoutingSnapshot Current => Volatile.Read(ref _current);

    public void Publish(RoutingSnapshot snapshot) => Volatile.Write(ref _current, snapshot);
}
