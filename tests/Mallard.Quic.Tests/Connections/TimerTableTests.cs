using Mallard.Quic.Connections;

namespace Mallard.Quic.Tests.Connections;

public class TimerTableTests
{
    [Fact]
    public void TheEarliestSetDeadlineIsNextAndAStoppedOneIsForgotten()
    {
        var timers = new TimerTable();
        Assert.Null(timers.Earliest);

        timers[TimerKind.Idle] = 30_000_000;
        timers[TimerKind.LossDetection] = 1_200_000;
        timers[TimerKind.Pacing] = 1_000_500;
        Assert.Equal(1_000_500, timers.Earliest);

        timers[TimerKind.Pacing] = null;
        Assert.Equal(1_200_000, timers.Earliest);
        Assert.False(timers.IsDue(TimerKind.LossDetection, 1_199_999));
        Assert.True(timers.IsDue(TimerKind.LossDetection, 1_200_000));
        Assert.False(timers.IsDue(TimerKind.PathValidation, long.MaxValue)); // never set
    }
}
