namespace Mallard.Steering;

/// <summary>How often the XDP program ran and the time spent in it, as the kernel counts (only while <c>sysctl kernel.bpf_stats_enabled=1</c>).</summary>
/// <param name="Runs">Packets the program judged.</param>
/// <param name="Nanoseconds">Time spent in it.</param>
public sealed record SteeringProgramTime(long Runs, long Nanoseconds)
{
    internal SteeringProgramTime((long Runs, long Nanoseconds) time)
        : this(time.Runs, time.Nanoseconds)
    {
    }
}
