using System.Net.Sockets;
using System.Text;

namespace Mallard.Cli.Balancer;

/// <summary>
/// Tells systemd how the service is doing (sd_notify(3)): a datagram of <c>KEY=VALUE</c> lines to
/// the Unix socket named by <c>NOTIFY_SOCKET</c>, which systemd sets for <c>Type=notify</c>
/// units. Outside systemd the variable is unset and nothing is sent.
/// </summary>
internal static class SystemdNotifier
{
    /// <summary>Sends <paramref name="state"/> (for example <c>READY=1</c>); false when not under systemd or the send failed.</summary>
    public static bool Notify(string state)
    {
        string? path = Environment.GetEnvironmentVariable("NOTIFY_SOCKET");
        if (string.IsNullOrEmpty(path) || !OperatingSystem.IsLinux())
        {
            return false;
        }

        // A leading '@' names a socket in the abstract namespace (a leading zero octet).
        string address = path[0] == '@' ? "\0" + path[1..] : path;
        try
        {
            using var socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
            socket.SendTo(Encoding.UTF8.GetBytes(state), new UnixDomainSocketEndPoint(address));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
