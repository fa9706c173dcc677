namespace Mallard.Cli;

/// <summary>
/// A command failed in a way the user can fix; the message is printed as one line on standard
/// error and the process exits with <see cref="ExitCode"/>.
/// </summary>
public sealed class CliException : Exception
{
    /// <summary>Exit code for bad options or configuration.</summary>
    public const int UsageExitCode = 1;

    /// <summary>Exit code for input that is unroutable or malformed.</summary>
    public const int InputExitCode = 2;

    /// <summary>Creates the exception.</summary>
    public CliException(string message, int exitCode = UsageExitCode)
        : base(message)
    {
        ExitCode = exitCode;
    }

    /// <summary>The process exit code.</summary>
    public int ExitCode { get; }
}
