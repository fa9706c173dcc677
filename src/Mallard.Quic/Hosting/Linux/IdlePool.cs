namespace Mallard.Quic.Hosting.Linux;

/// <summary>
/// A few idle objects kept for the next host to reuse, at most <see cref="Limit"/>. A client
/// makes one host per connection, and each host's batch buffers are native memory (a 2 MiB GRO
/// overflow area is an mmap and a munmap, with a TLB shootdown on every CPU) and pinned arrays:
/// made and freed per connection they cost a handshaking client a quarter of its CPU
/// (BENCHMARKS.md, "A client connection's host reuses its batch buffers").
/// Thread-safe.
/// </summary>
internal sealed class IdlePool<T>(int limit) where T : class
{
    private readonly List<T> _idle = [];

    /// <summary>How many idle objects are kept at most.</summary>
    public int Limit { get; } = limit;

    /// <summary>How many are idle now.</summary>
    public int Count
    {
        get
        {
            lock (_idle)
            {
                return _idle.Count;
            }
        }
    }

    /// <summary>Takes the most recently kept object that <paramref name="fits"/> <paramref name="key"/>; null when none does.</summary>
    public T? TryTake<TKey>(TKey key, Func<T, TKey, bool> fits)
    {
        lock (_idle)
        {
            for (int i = _idle.Count - 1; i >= 0; i--)
            {
                T candidate = _idle[i];
                if (fits(candidate, key))
                {
                    _idle.RemoveAt(i);
                    return candidate;
                }
            }
        }

        return null;
    }

    /// <summary>
    /// Keeps <paramref name="item"/> for reuse. When that makes more than <see cref="Limit"/>, the
    /// oldest one kept leaves the pool and is returned for the caller to dispose; else null.
    /// </summary>
    public T? Keep(T item)
    {
        lock (_idle)
        {
            _idle.Add(item);
            if (_idle.Count <= Limit)
            {
                return null;
            }

            T oldest = _idle[0];
            _idle.RemoveAt(0);
            return oldest;
        }
    }
}
