namespace Mallard.Quic.Tests.TestSupport;

/// <summary>A wall clock a test sets by hand (ticket ages, token lifetimes across a fleet).</summary>
internal sealed class SettableTimeProvider(DateTimeOffset now) : TimeProvider
{
    public DateTimeOffset Now { get; set; } = now;

    public override DateTimeOffset GetUtcNow() => Now;
}
