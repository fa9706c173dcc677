namespace Mallard.Quic.Recovery;

/// <summary>
/// The packet numbers received in one packet number space, as disjoint ranges largest first, for
/// duplicate detection and ACK frames (RFC 9000 sections 12.3 and 13.2). Bounded: the oldest
/// ranges are forgotten first, as an ACK frame only needs the recent ones; everything at or below
/// the forgotten ranges then counts as already received, so a replayed packet is never processed
/// twice (section 12.3) and a very late one is left for the peer to retransmit.
/// </summary>
internal sealed class ReceivedPacketRanges
{
    private readonly List<(ulong Smallest, ulong Largest)> _ranges = [];
    private readonly int _maxRanges;

    public ReceivedPacketRanges(int maxRanges = 32) => _maxRanges = maxRanges;

    /// <summary>The ranges, largest first.</summary>
    public IReadOnlyList<(ulong Smallest, ulong Largest)> Ranges => _ranges;

    public ulong? Largest => _ranges.Count == 0 ? null : _ranges[0].Largest;

    /// <summary>Packet numbers at or below this are refused: their ranges were forgotten.</summary>
    public ulong? Floor { get; private set; }

    /// <summary>Whether <paramref name="packetNumber"/> was already received, or is too old to tell.</summary>
    public bool Contains(ulong packetNumber) => packetNumber <= Floor || _ranges.Exists(r => packetNumber >= r.Smallest && packetNumber <= r.Largest);

    /// <summary>Records a packet number; returns false when it is a duplicate or older than what is remembered.</summary>
    public bool Add(ulong packetNumber)
    {
        if (packetNumber <= Floor)
        {
            return false;
        }

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
            Floor = _ranges[_maxRanges].Largest; // the largest of those forgotten
            _ranges.RemoveRange(_maxRanges, _ranges.Count - _maxRanges);
        }
    }
}
