using Microsoft.Extensions.Logging;

namespace Mallard.Balancer;

/// <summary>The balancer's structured log messages (source-generated, no allocation when the level is off).</summary>
internal static partial class BalancerLog
{
    [LoggerMessage(1, LogLevel.Information, "Listening on {Endpoint} ({ReturnPath}, {Workers} workers)")]
    public static partial void Listening(ILogger logger, string endpoint, string returnPath, int workers);

    [LoggerMessage(2, LogLevel.Information, "Admin endpoint on http://{Endpoint} (dashboard at /, /metrics, /status)")]
    public static partial void AdminListening(ILogger logger, string endpoint);

    [LoggerMessage(3, LogLevel.Warning, "Backend {Backend} is down: {Reason}")]
    public static partial void BackendDown(ILogger logger, string backend, string reason);

    [LoggerMessage(4, LogLevel.Information, "Backend {Backend} is up: {Reason}")]
    public static partial void BackendUp(ILogger logger, string backend, string reason);

    [LoggerMessage(5, LogLevel.Information, "Configuration reloaded (generation {Generation}): {Backends} backends, {Configs} QUIC-LB configs")]
    public static partial void Reloaded(ILogger logger, long generation, int backends, int configs);

    [LoggerMessage(6, LogLevel.Error, "Configuration reload rejected, the running configuration stays: {Problem}")]
    public static partial void ReloadRejected(ILogger logger, string problem);

    [LoggerMessage(7, LogLevel.Warning, "{Field} changed; it takes effect at the next restart")]
    public static partial void NeedsRestart(ILogger logger, string field);

    [LoggerMessage(8, LogLevel.Warning, "Relay limit: {Problem}")]
    public static partial void RelayLimit(ILogger logger, string problem);

    [LoggerMessage(9, LogLevel.Information, "Stopped; {Flows} flows closed")]
    public static partial void Stopped(ILogger logger, long flows);

    [LoggerMessage(11, LogLevel.Information, "Restored {Restored} of {Recorded} flows from the flow journal on {Endpoint}")]
    public static partial void FlowsRestored(ILogger logger, int restored, int recorded, string endpoint);

    [LoggerMessage(10, LogLevel.Information, "Exporting metrics over OTLP ({Protocol}) to {Endpoint} every {Interval}")]
    public static partial void OtlpExporting(ILogger logger, string endpoint, string protocol, TimeSpan interval);
}
