using System.Net;
using System.Net.Sockets;

namespace Mallard.TestSupport;

/// <summary>Loopback ports nothing is bound to at the moment of asking, for processes a test starts that must be told their port.</summary>
public static class FreePorts
{
    public static int Udp()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }

    /// <summary><paramref name="count"/> distinct UDP ports, all held while they are chosen.</summary>
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

    public static int Tcp()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>A port free for both TCP and UDP, as Kestrel binds both for HTTP/1.1–2 and HTTP/3 on one port.</summary>
    public static int TcpAndUdp()
    {
        for (int attempt = 0; ; attempt++)
        {
            using var tcp = new TcpListener(IPAddress.Loopback, 0);
            tcp.Start();
            int port = ((IPEndPoint)tcp.LocalEndpoint).Port;
            try
            {
                using var udp = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
                udp.Bind(new IPEndPoint(IPAddress.Loopback, port));
                return port;
            }
            catch (SocketException) when (attempt < 20)
            {
                // taken for UDP: try another
            }
        }
    }
}
