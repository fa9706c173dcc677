using System.Text;

namespace Mallard.Balancer.Routing;

/// <summary>
/// Maglev consistent hashing (Eisenbud et al., NSDI 2016) with weights: a lookup table of prime
/// size in which every backend fills slots in its own pseudo-random order, taking turns in
/// proportion to its weight. Removing or re-weighting one backend moves mostly the flows of that
/// backend. Backend order is fixed by name, so every balancer builds the same table.
/// </summary>
internal sealed class MaglevTable
{
    private const ulong OffsetSeed = 0x6d61676c65762d6fUL;
    private const ulong SkipSeed = 0x6d61676c65762d73UL;

    private readonly int[] _slots;

    private MaglevTable(int[] slots) => _slots = slots;

    /// <summary>The number of slots.</summary>
    public int Size => _slots.Length;

    /// <summary>
    /// Builds a table of <paramref name="size"/> slots (a prime) over backends with the given
    /// names and weights. Backends of weight 0 get no slot. When every weight is 0 the table is empty.
    /// </summary>
    public static MaglevTable Build(IReadOnlyList<string> names, IReadOnlyList<int> weights, int size)
    {
        int count = names.Count;
        var slots = new int[size];
        Array.Fill(slots, -1);
        int maxWeight = weights.Count == 0 ? 0 : weights.Max();
        if (maxWeight <= 0)
        {
            return new MaglevTable([]);
        }

        var offset = new ulong[count];
        var skip = new ulong[count];
        var next = new ulong[count];
        var credit = new long[count];
        for (int i = 0; i < count; i++)
        {
            byte[] name = Encoding.UTF8.GetBytes(names[i]);
            offset[i] = StableHash.Hash(name, OffsetSeed) % (ulong)size;
            skip[i] = (StableHash.Hash(name, SkipSeed) % (ulong)(size - 1)) + 1;
        }

        int filled = 0;
        while (filled < size)
        {
            for (int i = 0; i < count && filled < size; i++)
            {
                credit[i] += weights[i];
                while (credit[i] >= maxWeight && filled < size)
                {
                    credit[i] -= maxWeight;
                    ulong slot;
                    do
                    {
                        slot = (offset[i] + (next[i] * skip[i])) % (ulong)size;
                        next[i]++;
                    }
                    while (slots[slot] >= 0);

                    slots[slot] = i;
                    filled++;
                }
            }
        }

        return new MaglevTable(slots);
    }

    /// <summary>The backend index for <paramref name="hash"/>, or -1 when the table is empty.</summary>
    public int Lookup(ulong hash) => _slots.Length == 0 ? -1 : _slots[(int)(hash % (ulong)_slots.Length)];

    /// <summary>How many slots each backend holds (tests and status).</summary>
    public int[] CountSlots(int backendCount)
    {
        var counts = new int[backendCount];
        foreach (int slot in _slots)
        {
            counts[slot]++;
        }

        return counts;
    }
}
