namespace Mallard.Quic.Connections;

/// <summary>
/// Datagram packetization layer path MTU discovery for one path (DPLPMTUD, RFC 8899 with RFC 9000
/// section 14.3): the largest UDP payload the path is known to carry (<see cref="Current"/>, the
/// PLPMTU) starts at 1200, which every QUIC path carries, and rises only when a probe of the larger
/// size is acknowledged. Probes are PING and PADDING alone, one in flight at a time; a size is given
/// up after <see cref="MaxProbes"/> of its probes are lost. The search tries the ceiling first (most
/// paths carry a full Ethernet payload) and then halves the interval. A black hole — large packets
/// lost while small ones get through — drops <see cref="Current"/> back to 1200 and searches again.
/// Sans-IO; times in microseconds.
/// </summary>
internal sealed class PathMtuDiscovery
{
    /// <summary>BASE_PLPMTU: QUIC's minimum datagram size (RFC 9000 section 14.1).</summary>
    public const int BasePlpmtu = 1200;

    /// <summary>MAX_PROBES: probes of one size lost before the size counts as too large (RFC 8899 section 5.1.2).</summary>
    public const int MaxProbes = 3;

    /// <summary>The search stops once the interval left is narrower than this many octets.</summary>
    public const int SearchGranularity = 16;

    /// <summary>Suspicious losses in a row, with no large packet acknowledged between them, that make a black hole.</summary>
    public const int BlackHoleThreshold = 3;

    /// <summary>PMTU_RAISE_TIMER: a finished search is tried again after 600 s (RFC 8899 section 5.1.1).</summary>
    public const long RaiseInterval = 600_000_000;

    private readonly bool _enabled;
    private int _ceiling = BasePlpmtu;
    private int _lower;
    private int _upper;
    private int _probeSize;
    private int _probeLosses;
    private ulong? _probeInFlight;
    private long? _searchAgainAt;
    private bool _searching;
    private int _suspiciousLosses;

    /// <param name="enabled">False: <see cref="Current"/> jumps to the ceiling once the path may use it, unprobed.</param>
    public PathMtuDiscovery(bool enabled) => _enabled = enabled;

    /// <summary>The largest UDP payload to send on this path now (PLPMTU).</summary>
    public int Current { get; private set; } = BasePlpmtu;

    /// <summary>Whether the search has ended (until the raise timer or a black hole starts another).</summary>
    public bool SearchComplete => _searchAgainAt is not null;

    /// <summary>Black holes detected on this path.</summary>
    public int BlackHoles { get; private set; }

    /// <summary>
    /// The handshake is confirmed and the peer's max_udp_payload_size is known: the path may now
    /// carry up to <paramref name="ceiling"/> (the smaller of what this endpoint allows and what the
    /// peer reads), and the search starts.
    /// </summary>
    public void Start(int ceiling, long now)
    {
        _ceiling = Math.Max(BasePlpmtu, ceiling);
        if (!_enabled)
        {
            Current = _ceiling;
            return;
        }

        Current = Math.Min(Current, _ceiling);
        BeginSearch(now);
    }

    /// <summary>A new path: back to 1200 and a new search (RFC 9000 section 14.3: a new path's MTU is unknown).</summary>
    public void Reset(long now)
    {
        _suspiciousLosses = 0;
        if (!_enabled)
        {
            return;
        }

        Current = BasePlpmtu;
        if (_searching || _searchAgainAt is not null)
        {
            BeginSearch(now);
        }
    }

    /// <summary>The size of the probe to send now, or null when none is due.</summary>
    public int? ProbeDue(long now)
    {
        if (_searchAgainAt is long again && now >= again)
        {
            BeginSearch(now);
        }

        return _searching && _probeInFlight is null ? _probeSize : null;
    }

    /// <summary>The probe <see cref="ProbeDue"/> asked for left as packet <paramref name="packetNumber"/>.</summary>
    public void OnProbeSent(ulong packetNumber) => _probeInFlight = packetNumber;

    /// <summary>Whether <paramref name="packetNumber"/> is the probe in flight.</summary>
    public bool IsProbeInFlight(ulong packetNumber) => _probeInFlight == packetNumber;

    /// <summary>
    /// The probe was acknowledged: the path carries its size. Returns true when <see cref="Current"/> changed.
    /// </summary>
    public bool OnProbeAcknowledged(ulong packetNumber, long now)
    {
        if (_probeInFlight != packetNumber)
        {
            return false; // a probe of a search a black hole or a new path abandoned
        }

        _probeInFlight = null;
        _probeLosses = 0;
        _suspiciousLosses = 0;
        _lower = _probeSize;
        bool raised = _probeSize > Current;
        Current = Math.Max(Current, _probeSize);
        NextProbe(now);
        return raised;
    }

    /// <summary>The probe was declared lost; after <see cref="MaxProbes"/> losses its size is too large.</summary>
    public void OnProbeLost(ulong packetNumber, long now)
    {
        if (_probeInFlight != packetNumber)
        {
            return;
        }

        _probeInFlight = null;
        if (++_probeLosses < MaxProbes)
        {
            return; // the same size again (RFC 8899 section 5.1.2)
        }

        _probeLosses = 0;
        _upper = _probeSize - 1;
        NextProbe(now);
    }

    /// <summary>A packet larger than 1200 octets that was not a probe was acknowledged: the path still carries large packets.</summary>
    public void OnLargePacketAcknowledged() => _suspiciousLosses = 0;

    /// <summary>
    /// Large packets were lost and no small one with them, or the PTO fired with large packets
    /// outstanding: what a path whose MTU fell looks like (RFC 8899 section 4.3). Returns true when
    /// this makes a black hole and <see cref="Current"/> fell back to 1200.
    /// </summary>
    public bool OnSuspiciousLoss(long now)
    {
        if (Current <= BasePlpmtu || ++_suspiciousLosses < BlackHoleThreshold)
        {
            return false;
        }

        _suspiciousLosses = 0;
        BlackHoles++;
        Current = BasePlpmtu;
        if (_enabled)
        {
            BeginSearch(now);
        }

        return true;
    }

    private void BeginSearch(long now)
    {
        _searchAgainAt = null;
        _probeInFlight = null;
        _probeLosses = 0;
        _lower = Current;
        _upper = _ceiling;
        _searching = _upper - _lower >= SearchGranularity;
        _probeSize = _upper; // the ceiling first: most paths carry it, and then one probe ends the search
        if (!_searching)
        {
            _searchAgainAt = now + RaiseInterval;
        }
    }

    /// <summary>Halves the interval [lower, upper] after a probe's outcome, or ends the search when it is narrow enough.</summary>
    private void NextProbe(long now)
    {
        if (_upper - _lower < SearchGranularity)
        {
            _searching = false;
            _searchAgainAt = now + RaiseInterval;
            return;
        }

        _probeSize = _lower + ((_upper - _lower + 1) / 2);
    }
}
