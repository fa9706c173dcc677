using System.Net;
using System.Net.Sockets;
using Mallard.Balancer.Forwarding.Linux;
using Mallard.Linux;

namespace Mallard.UdpLoad;

/// <summary>
/// A UDP echo backend: one thread, one socket, every datagram sent straight back, up to 32 per
/// recvmmsg/sendmmsg so that the backend costs little beside the proxy under test.
/// </summary>
internal static unsafe class EchoServer
{
    public static void Run(IPEndPoint address)
    {
        using var socket = new Socket(address.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        socket.ReceiveBufferSize = 4 << 20;
        socket.SendBufferSize = 4 << 20;
        socket.Bind(address);
        Console.WriteLine($"echo on {socket.LocalEndPoint}");
        int fd = (int)socket.SafeHandle.DangerousGetHandle();
        using var io = new LinuxBatchIo(2048);
        while (true)
        {
            io.ResetReceive();
            // Blocking for the first datagram, then whatever else is queued.
            int count = LinuxNative.recvmmsg(fd, io.ReceiveHeaders, LinuxBatchIo.BatchSize, 0x10000 /* MSG_WAITFORONE */, null);
            for (int i = 0; i < count; i++)
            {
                io.ReceiveHeaders[i].Iov->Length = io.ReceiveHeaders[i].Length;
            }

            if (count > 0)
            {
                LinuxNative.sendmmsg(fd, io.ReceiveHeaders, (uint)count, 0);
            }
        }
    }
}
