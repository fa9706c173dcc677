namespace Mallard.Http3.Qpack;

/// <summary>
/// The decoder's copy of the peer encoder's dynamic table (RFC 9204 section 3.2): entries by
/// absolute index (the n-th insert has index n − 1), the oldest evicted first when an insert
/// needs room, and each entry counted as its name and value lengths plus 32 bytes (section 3.2.1).
/// Its capacity is what the encoder set, never more than the maximum this end advertised.
/// </summary>
internal sealed class QpackDynamicTable(long maxCapacity)
{
    /// <summary>Bytes an entry costs beyond its name and value (section 3.2.1).</summary>
    public const int EntryOverhead = 32;

    private readonly List<(string Name, string Value)> _indexable = [];

    public long MaxCapacity { get; } = maxCapacity;

    public long Capacity { get; private set; }

    public long Size { get; private set; }

    /// <summary>Entries ever inserted: the next insert's absolute index.</summary>
    public long InsertCount { get; private set; }

    /// <summary>Entries evicted so far: the oldest absolute index still held.</summary>
    public long EvictedCount { get; private set; }

    /// <summary>Set Dynamic Table Capacity (section 4.3.1): above the advertised maximum is an encoder stream error.</summary>
    public void SetCapacity(ulong capacity)
    {
        if (capacity > (ulong)MaxCapacity)
        {
            throw new QpackException(Http3ErrorCode.QpackEncoderStreamError, $"dynamic table capacity {capacity} is above the {MaxCapacity} this end allows");
        }

        Capacity = (long)capacity;
        EvictUntil(Capacity);
    }

    /// <summary>Adds an entry, evicting the oldest until it fits; one larger than the capacity is an encoder stream error (section 3.2.2).</summary>
    public void Insert(string name, string value)
    {
        long size = (long)name.Length + value.Length + EntryOverhead;
        if (size > Capacity)
        {
            throw new QpackException(Http3ErrorCode.QpackEncoderStreamError, $"an entry of {size} bytes does not fit a dynamic table of {Capacity}");
        }

        EvictUntil(Capacity - size);
        _indexable.Add((name, value));
        Size += size;
        InsertCount++;
    }

    /// <summary>The entry with <paramref name="absoluteIndex"/>, or null when it was never inserted or is evicted.</summary>
    public (string Name, string Value)? Get(long absoluteIndex) =>
        absoluteIndex >= EvictedCount && absoluteIndex < InsertCount ? _indexable[(int)(absoluteIndex - EvictedCount)] : null;

    private void EvictUntil(long size)
    {
        int evict = 0;
        while (Size > size)
        {
            (string name, string value) = _indexable[evict++];
            Size -= (long)name.Length + value.Length + EntryOverhead;
            EvictedCount++;
        }

        if (evict > 0)
        {
            _indexable.RemoveRange(0, evict);
        }
    }
}
