namespace Mallard.Balancer.Configuration;

/// <summary>An inclusive range of UDP ports.</summary>
/// <param name="First">The lowest port.</param>
/// <param name="Last">The highest port.</param>
public sealed record PortRange(int First, int Last)
{
    /// <summary>How many ports the range holds.</summary>
    public int Count => Last - First + 1;

    /// <inheritdoc/>
    public override string ToString() => $"{First}-{Last}";
}
