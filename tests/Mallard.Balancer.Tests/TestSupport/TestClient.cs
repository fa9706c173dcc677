using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Mallard.Balancer.Tests.TestSupport;

/// <summary>A UDP client socket on loopback that sends to the balancer and reads replies with a deadline.</summary>
internal sealed class TestClient : IDisposable
{
    private readonly Socket _socket = new(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
    private readonly IPEndPoint _balancer;

    public TestClient(IPEndPoint balancer, IPAddress? local = null)
    {
        _balancer = balancer;
        _socket.Bind(new IPEndPoint(local ?? IPAddress.Loopback, 0));
    }

    public IPEndPoint LocalEndpoint => (IPEndPoint)_socket.LocalEndPoint!;

    public void Send(byte[] datagram) => _socket.SendTo(datagram, _balancer);

    /// <summary>Sends and returns the name of the backend that echoed it, or null if nothing came back in time.</summary>
    public string? Exchange(byte[] datagram, int timeoutMilliseconds = 2000)
    {
        Send(datagram);
        return ReceiveFrom(timeoutMilliseconds);
    }

    /// <summary>The name prefix of the next echoed datagram, or null on timeout.</summary>
    public string? ReceiveFrom(int timeoutMilliseconds = 2000)
    {
        byte[] buffer = new byte[65_536];
        _socket.ReceiveTimeout = timeoutMilliseconds;
        try
        {
            int length = _socket.Receive(buffer);
            string text = Encoding.ASCII.GetString(buffer, 0, Math.Min(length, 32));
            int colon = text.IndexOf(':', StringComparison.Ordinal);
            return colon < 0 ? text : text[..colon];
        }
        catch (SocketException error) when (error.SocketErrorCode == SocketError.TimedOut)
        {
            return null;
        }
    }

    public void Dispose() => _socket.Dispose();
}
