namespace Mallard.Quic.Recovery;

/// <summary>
/// The packet numbers received in one packet number space, as disjoint ranges largest first, for
/// duplicate detection and ACK frames (RFC 9000 sections 12.3 and 13.2). Bounded: the oldest
/// ranges are forgotten first, as an ACK frame only needs the recent ones.
/// </summary>
internal sealed class ReceivedPacketRanges
{
    private readonly List<(ulong Smallest, ulong Largest)> _ranges = [];
    private readonly int _maxRanges;

    public ReceivedPacketRanges(int maxRanges = 32) => _maxRanges = maxRanges;

    /// <summary>The ranges, largest first.</summary>
    public IReadOnlyList<(ulong Smallest, ulong Largest)> Ranges => _ranges;

    public ulong? Largest => _ranges.Count == 0 ? null : _ranges[0].Largest;

    /// <summary>Whether <paramref name="packetNumber"/> was already received (and is still remembered).</summary>
    public bool Contains(ulong packetNumber) => _ranges.Exists(r => packetNumber >= r.Smallest && packetNumber <= r.Largest);

    /// <summary>Records a packet number; returns false when it is a duplicate.</summary>
    public bool Add(ulong packetNumber)
    {
        for (int i = 0; i < _ranges.Count; i++)
        {
            (ulong smallest, ulong largest) = _ranges[i];
            if (packetNumber >= smallest && packetNumber <= largest)
            {
                return false;
            }

            if (packetNumber == largest + 1)
            {
                _ranges[i] = (smallest, packetNumber);
                return true; // The range above (i - 1) starts at least 2 higher, so no merge.
            }

            if (packetNumber + 1 == smallest)
            {
                // Extends this range down; it may now touch the next (lower) range.
                if (i + 1 < _ranges.Count && _ranges[i + 1].Largest + 1 == packetNumber)
                {
                    _ranges[i] = (_ranges[i + 1].Smallest, largest);
                    _ranges.RemoveAt(i + 1);
                }
                else
                {
                    _ranges[i] = (packetNumber, largest);
                }

                return true;
            }

            if (packetNumber > largest)
            {
                _ranges.Insert(i, (packetNumber, packetNumber));
                Trim();
                return true;
            }
        }

        _ranges.Add((packetNumber, packetNumber));
        Trim();
        return true;
    }

    private void Trim()
    {
        if (_ranges.Count > _maxRanges)
        {
            _ranges.RemoveRange(_maxRanges, _ranges.Count - _maxRanges);
        }
    }
}
