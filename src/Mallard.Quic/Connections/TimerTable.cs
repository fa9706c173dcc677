namespace Mallard.Quic.Connections;

/// <summary>The connection's own timers, each a deadline or none (times in microseconds on the connection's clock).</summary>
internal enum TimerKind
{
    /// <summary>The idle timeout (RFC 9000 section 10.1).</summary>
    Idle,

    /// <summary>The end of the closing or draining period (RFC 9000 section 10.2).</summary>
    Close,

    /// <summary>Loss detection by time threshold, or the PTO (RFC 9002 section 6.2).</summary>
    LossDetection,

    /// <summary>The end of a path validation (RFC 9000 section 8.2.4).</summary>
    PathValidation,

    /// <summary>When the pacer lets a waiting packet go (RFC 9002 section 7.7).</summary>
    Pacing,

    /// <summary>
    /// A while after the last packet in flight was acknowledged: the sent-packet records a busy
    /// period needed are given back, unless sending has resumed (set only when there are some to give).
    /// </summary>
    TrimRecords,

    /// <summary>Server: three PTOs after the first 1-RTT packet, the 0-RTT keys go (RFC 9001 section 4.9.3).</summary>
    DiscardZeroRttKeys,
}

/// <summary>
/// One deadline per <see cref="TimerKind"/>, and the earliest of them. The delayed ACK (held by its
/// packet space) and the keep-alive (derived from the last send) are added by the connection,
/// which knows when they apply.
/// </summary>
internal sealed class TimerTable
{
    private readonly long?[] _deadlines = new long?[Enum.GetValues<TimerKind>().Length];

    public long? this[TimerKind kind]
    {
        get => _deadlines[(int)kind];
        set => _deadlines[(int)kind] = value;
    }

    /// <summary>Whether <paramref name="kind"/> is set and has come.</summary>
    public bool IsDue(TimerKind kind, long now) => _deadlines[(int)kind] is long deadline && now >= deadline;

    /// <summary>The earliest deadline set, or null.</summary>
    public long? Earliest
    {
        get
        {
            long? earliest = null;
            foreach (long? deadline in _deadlines)
            {
                if (deadline is long value && (earliest is null || value < earliest))
                {
                    earliest = value;
                }
            }

            return earliest;
        }
    }
}
