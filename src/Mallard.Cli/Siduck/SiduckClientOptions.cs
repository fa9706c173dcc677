using System.Net;

namespace Mallard.Cli.Siduck;

/// <summary>What <c>mallard siduck quack</c> was asked to do.</summary>
internal sealed record SiduckClientOptions(EndPoint Server, string? ServerName, bool Insecure, int Count, TimeSpan Interval, TimeSpan Timeout, byte[] Message, string? QlogDirectory)
{
    /// <summary>Before every this many quacks, the connection moves to a new local port (0: never).</summary>
    public int MigrateEvery { get; init; }
}
