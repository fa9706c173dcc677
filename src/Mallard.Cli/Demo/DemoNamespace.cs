using System.Diagnostics;

namespace Mallard.Cli.Demo;

/// <summary>
/// A network namespace made for <c>mallard demo --steering</c> and removed after it (root only):
/// commands run inside it through <c>ip netns exec</c> (iproute2), as an operator would type them.
/// </summary>
internal sealed class DemoNamespace : IDisposable
{
    public DemoNamespace(string name)
    {
        Name = name;
        Run("ip", "netns", "add", name);
        Exec("ip", "link", "set", "lo", "up");
    }

    public string Name { get; }

    /// <summary>Runs a command and returns its output.</summary>
    /// <exception cref="CliException">It failed or is not installed; the message names it.</exception>
    public static string Run(params string[] command)
    {
        var start = new ProcessStartInfo(command[0], command[1..]) { RedirectStandardOutput = true, RedirectStandardError = true };
        Process process;
        try
        {
            process = Process.Start(start)!;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            throw new CliException($"{command[0]} is not installed (apt-get install iproute2 nftables conntrack).");
        }

        using (process)
        {
            string output = process.StandardOutput.ReadToEnd();
            string error = process.StandardError.ReadToEnd();
            process.WaitForExit();
            return process.ExitCode == 0 ? output : throw new CliException($"{string.Join(' ', command)} failed: {error.Trim()}");
        }
    }

    /// <summary>Runs a command inside this namespace.</summary>
    public string Exec(params string[] command) => Run(["ip", "netns", "exec", Name, .. command]);

    /// <summary>Starts a long-running command inside this namespace; its output is collected.</summary>
    public DemoChild Start(params string[] command) => DemoChild.Start(["ip", "netns", "exec", Name, .. command]);

    /// <summary>A veth pair named <paramref name="leftName"/> in <paramref name="left"/> and <paramref name="rightName"/> in <paramref name="right"/>, addressed (when given) and up.</summary>
    public static void Link(DemoNamespace left, string leftName, string? leftAddress, DemoNamespace right, string rightName, string? rightAddress)
    {
        Run("ip", "link", "add", leftName, "netns", left.Name, "type", "veth", "peer", "name", rightName, "netns", right.Name);
        foreach ((DemoNamespace side, string name, string? address) in new[] { (left, leftName, leftAddress), (right, rightName, rightAddress) })
        {
            if (address is not null)
            {
                side.Exec("ip", "addr", "add", address, "dev", name);
            }

            side.Exec("ip", "link", "set", name, "up");
        }
    }

    public void Dispose()
    {
        try
        {
            Run("ip", "netns", "del", Name);
        }
        catch (CliException)
        {
            // Already gone.
        }
    }
}
