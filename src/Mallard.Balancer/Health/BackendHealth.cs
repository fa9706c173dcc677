namespace Mallard.Balancer.Health;

/// <summary>
/// The health of one backend, shared by every routing snapshot that contains it. Written by the
/// health checker and by forwarding threads (passive signals), read on every packet.
/// </summary>
public sealed class BackendHealth
{
    private readonly Lock _gate = new();
    private volatile bool _isUp = true;
    private volatile bool _isRemoved;
    private int _failures;
    private int _successes;

    /// <summary>Whether the backend takes traffic. Backends start up, so a balancer forwards from its first packet.</summary>
    public bool IsUp => _isUp;

    /// <summary>Whether a reload removed the backend from the configuration.</summary>
    public bool IsRemoved => _isRemoved;

    /// <summary>When the state last changed (UTC), or null if it never has.</summary>
    public DateTimeOffset? LastChange { get; private set; }

    /// <summary>The reason for the last failure, for logs and /status.</summary>
    public string? LastFailure { get; private set; }

    /// <summary>Records a successful probe; returns true when this marks the backend up.</summary>
    public bool ReportSuccess(int healthyThreshold, DateTimeOffset now)
    {
        lock (_gate)
        {
            _failures = 0;
            _successes++;
            if (!_isUp && _successes >= healthyThreshold)
            {
                _isUp = true;
                LastChange = now;
                return true;
            }

            return false;
        }
    }

    /// <summary>Records a failed probe or a passive failure; returns true when this marks the backend down.</summary>
    public bool ReportFailure(int unhealthyThreshold, string reason, DateTimeOffset now)
    {
        lock (_gate)
        {
            _successes = 0;
            _failures++;
            LastFailure = reason;
            if (_isUp && _failures >= unhealthyThreshold)
            {
                _isUp = false;
                LastChange = now;
                return true;
            }

            return false;
        }
    }

    /// <summary>Marks the backend removed by a reload; its flows close at the next sweep.</summary>
    public void MarkRemoved() => _isRemoved = true;

    /// <summary>Marks the backend up (health checks switched off).</summary>
    public bool ForceUp(DateTimeOffset now)
    {
        lock (_gate)
        {
            _failures = 0;
            if (_isUp)
            {
                return false;
            }

            _isUp = true;
            LastChange = now;
            return true;
        }
    }
}
