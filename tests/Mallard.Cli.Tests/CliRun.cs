namespace Mallard.Cli.Tests;

/// <summary>Runs the <c>mallard</c> command in-process and captures what it prints.</summary>
internal sealed record CliRun(int ExitCode, string Output, string Error)
{
    public static CliRun Of(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        int exitCode = MallardCommand.Run(args, output, error);
        return new CliRun(exitCode, output.ToString(), error.ToString());
    }

    /// <summary>The repository root, found from the test binaries.</summary>
    public static string RepositoryRoot => Mallard.TestSupport.Repository.Root;
}
