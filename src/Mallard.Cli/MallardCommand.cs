using System.CommandLine;
using Mallard.Cli.Balancer;
using Mallard.Cli.Cid;
using Mallard.Cli.Demo;
using Mallard.Cli.Interop;
using Mallard.Cli.Siduck;
using Mallard.Balancer.Configuration;

namespace Mallard.Cli;

/// <summary>The <c>mallard</c> command line: the root command and its subcommands.</summary>
public static class MallardCommand
{
    /// <summary>Parses <paramref name="args"/>, runs the command and returns the exit code.</summary>
    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        RootCommand root = Create(output, error);
        return root.Parse(args).Invoke(new InvocationConfiguration { Output = output, Error = error });
    }

    /// <summary>Builds the command tree; actions write to <paramref name="output"/> and <paramref name="error"/>.</summary>
    public static RootCommand Create(TextWriter output, TextWriter error)
    {
        var root = new RootCommand("Mallard: QUIC-LB connection IDs, a QUIC-aware UDP load balancer and a managed QUIC stack.");
        root.Subcommands.Add(CidCommand.Create(output, error));
        root.Subcommands.Add(LbCommand.Create(output, error));
        root.Subcommands.Add(Steering.SteerCommand.Create(output, error));
        root.Subcommands.Add(InteropCommand.Create(output, error));
        root.Subcommands.Add(SiduckCommand.Create(output, error));
        root.Subcommands.Add(DemoCommand.Create(output, error));
        root.Subcommands.Add(Http3.GetCommand.Create(output, error));
        return root;
    }

    /// <summary>Runs an action, turning the errors a user can fix into one line on standard error and an exit code.</summary>
    internal static int Guard(TextWriter error, Func<int> action)
    {
        try
        {
            return action();
        }
        catch (CliException failure)
        {
            error.WriteLine($"mallard: {failure.Message}");
            return failure.ExitCode;
        }
        catch (MallardConfigException failure)
        {
            error.WriteLine($"mallard: {failure.Message}");
            return CliException.UsageExitCode;
        }
    }
}
