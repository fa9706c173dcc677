using System.Diagnostics;

namespace Mallard.TestSupport;

/// <summary>
/// A network namespace that a test creates and removes (root only). Commands run inside it with
/// <c>ip netns exec</c>; traffic never leaves the namespaces the test made.
/// </summary>
public sealed class NetworkNamespace : IDisposable
{
    public NetworkNamespace(string name)
    {
        Name = name;
        Run("ip", "netns", "add", name);
        Exec("ip", "link", "set", "lo", "up");
    }

    public string Name { get; }

    /// <summary>Runs a command in the root namespace and returns its output; throws when it fails.</summary>
    public static string Run(params string[] command)
    {
        var start = new ProcessStartInfo(command[0], command[1..]) { RedirectStandardOutput = true, RedirectStandardError = true };
        using Process process = Process.Start(start)!;
        string output = process.StandardOutput.ReadToEnd();
        string error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{string.Join(' ', command)} failed ({process.ExitCode}): {error}");
        }

        return output;
    }

    public static bool IsRoot => Environment.UserName == "root";

    /// <summary>Runs a command inside this namespace.</summary>
    public string Exec(params string[] command) => Run(["ip", "netns", "exec", Name, .. command]);

    /// <summary>
    /// Joins two namespaces with a veth pair, <paramref name="leftName"/> in <paramref name="left"/>
    /// and <paramref name="rightName"/> in <paramref name="right"/>, each given its address (when
    /// not null) and brought up.
    /// </summary>
    public static void Link(NetworkNamespace left, string leftName, string? leftAddress, NetworkNamespace right, string rightName, string? rightAddress)
    {
        ArgumentNullException.ThrowIfNull(left);
        ArgumentNullException.ThrowIfNull(right);
        Run("ip", "link", "add", leftName, "netns", left.Name, "type", "veth", "peer", "name", rightName, "netns", right.Name);
        if (leftAddress is not null)
        {
            left.Exec("ip", "addr", "add", leftAddress, "dev", leftName);
        }

        if (rightAddress is not null)
        {
            right.Exec("ip", "addr", "add", rightAddress, "dev", rightName);
        }

        left.Exec("ip", "link", "set", leftName, "up");
        right.Exec("ip", "link", "set", rightName, "up");
    }

    /// <summary>The arguments that start <paramref name="command"/> inside this namespace.</summary>
    public string[] Wrap(params string[] command) => ["netns", "exec", Name, .. command];

    public void Dispose()
    {
        try
        {
            Run("ip", "netns", "del", Name);
        }
        catch (InvalidOperationException)
        {
            // Already gone; nothing to clean up.
        }
    }
}
