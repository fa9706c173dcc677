namespace Mallard.Quic.Streams;

/// <summary>A set of disjoint, non-adjacent half-open ranges [start, end) of stream offsets, kept sorted.</summary>
internal sealed class RangeSet
{
    private readonly List<(ulong Start, ulong End)> _ranges = [];

    public IReadOnlyList<(ulong Start, ulong End)> Ranges => _ranges;

    public bool IsEmpty => _ranges.Count == 0;

    /// <summary>Adds [start, end), merging with overlapping or touching ranges.</summary>
    public void Add(ulong start, ulong end)
    {
        if (end <= start)
        {
            return;
        }

        int i = 0;
        while (i < _ranges.Count && _ranges[i].End < start)
        {
            i++;
        }

        while (i < _ranges.Count && _ranges[i].Start <= end)
        {
            start = Math.Min(start, _ranges[i].Start);
            end = Math.Max(end, _ranges[i].End);
            _ranges.RemoveAt(i);
        }

        _ranges.Insert(i, (start, end));
    }

    /// <summary>Removes [start, end), splitting ranges that straddle it.</summary>
    public void Remove(ulong start, ulong end)
    {
        if (end <= start)
        {
            return;
        }

        for (int i = 0; i < _ranges.Count; i++)
        {
            (ulong rangeStart, ulong rangeEnd) = _ranges[i];
            if (rangeEnd <= start || rangeStart >= end)
            {
                continue;
            }

            _ranges.RemoveAt(i);
            if (rangeEnd > end)
            {
                _ranges.Insert(i, (end, rangeEnd));
            }

            if (rangeStart < start)
            {
                _ranges.Insert(i, (rangeStart, start));
                i++;
            }

            i--;
        }
    }

    /// <summary>Whether every offset in [start, end) is in the set.</summary>
    public bool Covers(ulong start, ulong end) => end <= start || _ranges.Exists(r => r.Start <= start && r.End >= end);
}
