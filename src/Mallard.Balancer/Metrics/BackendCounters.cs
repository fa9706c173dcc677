namespace Mallard.Balancer.Metrics;

/// <summary>Traffic counters of one backend, kept across reloads while the backend stays configured.</summary>
public sealed class BackendCounters
{
    private long _packetsToBackend;
    private long _bytesToBackend;
    private long _packetsFromBackend;
    private long _bytesFromBackend;
    private long _sendErrors;

    /// <summary>Datagrams relayed from clients to this backend.</summary>
    public long PacketsToBackend => Volatile.Read(ref _packetsToBackend);

    /// <summary>Octets relayed from clients to this backend.</summary>
    public long BytesToBackend => Volatile.Read(ref _bytesToBackend);

    /// <summary>Datagrams relayed from this backend to clients.</summary>
    public long PacketsFromBackend => Volatile.Read(ref _packetsFromBackend);

    /// <summary>Octets relayed from this backend to clients.</summary>
    public long BytesFromBackend => Volatile.Read(ref _bytesFromBackend);

    /// <summary>Datagrams that could not be sent to this backend (ICMP unreachable, buffer full).</summary>
    public long SendErrors => Volatile.Read(ref _sendErrors);

    internal void CountToBackend(int bytes)
    {
        Interlocked.Increment(ref _packetsToBackend);
        Interlocked.Add(ref _bytesToBackend, bytes);
    }

    internal void CountToBackend(long packets, long bytes)
    {
        Interlocked.Add(ref _packetsToBackend, packets);
        Interlocked.Add(ref _bytesToBackend, bytes);
    }

    internal void CountFromBackend(int bytes)
    {
        Interlocked.Increment(ref _packetsFromBackend);
        Interlocked.Add(ref _bytesFromBackend, bytes);
    }

    internal void CountSendError() => Interlocked.Increment(ref _sendErrors);
}
