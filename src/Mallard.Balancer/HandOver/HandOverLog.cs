using Microsoft.Extensions.Logging;

namespace Mallard.Balancer.HandOver;

/// <summary>The log messages of a hand-over, on both sides.</summary>
internal static partial class HandOverLog
{
    [LoggerMessage(40, LogLevel.Information, "Hand-over: process {Successor} asked for the sockets; forwarding paused")]
    public static partial void Starting(ILogger logger, int successor);

    [LoggerMessage(41, LogLevel.Information, "Hand-over: process {Successor} took over {Listening} listening sockets and {Flows} flows; forwarding paused {Milliseconds:0.0} ms (until it said it forwards); stopping")]
    public static partial void Completed(ILogger logger, int successor, int listening, int flows, double milliseconds);

    [LoggerMessage(42, LogLevel.Warning, "Hand-over to process {Successor} failed ({Reason}); forwarding again")]
    public static partial void Failed(ILogger logger, int successor, string reason);

    [LoggerMessage(43, LogLevel.Warning, "Hand-over request refused: {Reason}")]
    public static partial void Refused(ILogger logger, string reason);

    [LoggerMessage(44, LogLevel.Information, "Took over from process {Predecessor}: {Listening} listening sockets and {Flows} flows ({Dropped} dropped); forwarding {Milliseconds:0.0} ms after asking")]
    public static partial void TookOver(ILogger logger, int predecessor, int listening, int flows, int dropped, double milliseconds);

    [LoggerMessage(47, LogLevel.Information, "Taking over from the balancer on {Path}")]
    public static partial void Asking(ILogger logger, string path);

    [LoggerMessage(45, LogLevel.Warning, "No hand-over from {Path} ({Reason}); starting afresh")]
    public static partial void NoPredecessor(ILogger logger, string path, string reason);

    [LoggerMessage(46, LogLevel.Information, "Waiting for a successor on {Path} (start another mallard lb with the same Proxy:HandOverSocket, or send SIGUSR2)")]
    public static partial void Serving(ILogger logger, string path);
}
