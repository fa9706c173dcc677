namespace Mallard.Balancer.Configuration;

/// <summary><c>Mallard:Balancer:Fallback</c> as written, before validation.</summary>
public sealed class FallbackOptions
{
    /// <summary>The consistent-hashing algorithm; only <c>maglev</c>.</summary>
    public string? Algorithm { get; set; }

    /// <summary>Idle timeout of routing-table entries; default 30 s.</summary>
    public TimeSpan? FlowIdleTimeout { get; set; }

    /// <summary>Maglev table size, a prime from 251 to 1,048,573; default 65,537.</summary>
    public int? TableSize { get; set; }

    /// <summary>Capacity of each routing table; default 1,048,576.</summary>
    public int? MaxTableEntries { get; set; }
}
