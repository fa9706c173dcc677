using System.Net;
using System.Net.Sockets;

namespace Mallard.Balancer.Tests.TestSupport;

/// <summary>Loopback UDP ports that were free a moment ago, for peers that need a port in their command line.</summary>
internal static class FreePorts
{
    /// <summary>A loopback TCP port that was free a moment ago (for an admin endpoint).</summary>
    public static int Tcp()
    {
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public static int[] Udp(int count)
    {
        var sockets = new List<Socket>();
        try
        {
            for (int i = 0; i < count; i++)
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
                sockets.Add(socket);
                socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            }

            return [.. sockets.Select(s => ((IPEndPoint)s.LocalEndPoint!).Port)];
        }
        finally
        {
            sockets.ForEach(s => s.Dispose());
        }
    }
}
