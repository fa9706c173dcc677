using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Mallard.Balancer.Routing;

/// <summary>
/// A bounded table of routing decisions with an idle timeout, owned by one forwarding thread.
/// When full, new decisions are not stored: the fallback hash still places their packets, so a
/// full table costs stability across backend changes, never a drop.
/// </summary>
internal sealed class DecisionTable<TKey>
    where TKey : struct, IEquatable<TKey>
{
    private readonly Dictionary<TKey, Entry> _entries = [];
    private readonly int _capacity;
    private readonly long _idleMilliseconds;

    public DecisionTable(int capacity, TimeSpan idleTimeout)
    {
        _capacity = capacity;
        _idleMilliseconds = (long)idleTimeout.TotalMilliseconds;
    }

    public int Count => _entries.Count;

    /// <summary>Decisions not stored because the table was full.</summary>
    public long Overflows { get; private set; }

    /// <summary>The stored backend, if it is still live and usable; refreshes the entry's idle timer.</summary>
    public Backend? Lookup(in TKey key, long nowMilliseconds)
    {
        ref Entry entry = ref CollectionsMarshal.GetValueRefOrNullRef(_entries, key);
        if (Unsafe.IsNullRef(ref entry))
        {
            return null;
        }

        if (!entry.Backend.IsUsable || nowMilliseconds - entry.LastUsed > _idleMilliseconds)
        {
            _entries.Remove(key);
            return null;
        }

        entry.LastUsed = nowMilliseconds;
        return entry.Backend;
    }

    /// <summary>Stores or refreshes a decision.</summary>
    public void Record(in TKey key, Backend backend, long nowMilliseconds)
    {
        ref Entry entry = ref CollectionsMarshal.GetValueRefOrNullRef(_entries, key);
        if (!Unsafe.IsNullRef(ref entry))
        {
            entry.Backend = backend;
            entry.LastUsed = nowMilliseconds;
            return;
        }

        if (_entries.Count >= _capacity)
        {
            Overflows++;
            return;
        }

        _entries.Add(key, new Entry { Backend = backend, LastUsed = nowMilliseconds });
    }

    /// <summary>Removes idle entries and entries whose backend is gone; returns how many.</summary>
    public int Sweep(long nowMilliseconds)
    {
        int removed = 0;
        foreach ((TKey key, Entry entry) in _entries)
        {
            if (entry.Backend.IsRetired || nowMilliseconds - entry.LastUsed > _idleMilliseconds)
            {
                _entries.Remove(key);
                removed++;
            }
        }

        return removed;
    }

    private struct Entry
    {
        public Backend Backend;
        public long LastUsed;
    }
}
