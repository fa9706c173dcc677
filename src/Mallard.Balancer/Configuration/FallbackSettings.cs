namespace Mallard.Balancer.Configuration;

/// <summary>How packets without a routable connection ID are placed, and how long decisions are kept.</summary>
/// <param name="TableSize">Maglev lookup table size, a prime well above the backend count.</param>
/// <param name="FlowIdleTimeout">How long an idle routing decision (SCID, DCID or client-address table entry) is kept.</param>
/// <param name="MaxTableEntries">The most decisions each table keeps; past it, new decisions are hashed but not stored.</param>
public sealed record FallbackSettings(int TableSize, TimeSpan FlowIdleTimeout, int MaxTableEntries);
