using System.Net;
using System.Net.Sockets;

namespace Mallard.UdpLoad;

/// <summary>A UDP echo backend: one thread, one socket, every datagram sent straight back.</summary>
internal static class EchoServer
{
    public static void Run(IPEndPoint address)
    {
        using var socket = new Socket(address.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        socket.ReceiveBufferSize = 4 << 20;
        socket.SendBufferSize = 4 << 20;
        socket.Bind(address);
        Console.WriteLine($"echo on {socket.LocalEndPoint}");
        byte[] buffer = new byte[65_536];
        var from = new SocketAddress(address.AddressFamily);
        while (true)
        {
            int length = socket.ReceiveFrom(buffer, SocketFlags.None, from);
            socket.SendTo(buffer.AsSpan(0, length), SocketFlags.None, from);
        }
    }
}
