namespace Mallard.Balancer.Admin;

/// <summary>One backend in <see cref="BalancerStatus"/>.</summary>
public sealed record BackendStatus(
    string Address,
    int Weight,
    bool Up,
    DateTimeOffset? LastChange,
    string? LastFailure,
    IReadOnlyDictionary<string, string> ServerIds,
    int MaglevSlots,
    long PacketsToBackend,
    long BytesToBackend,
    long PacketsFromBackend,
    long BytesFromBackend);
