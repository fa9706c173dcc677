using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Mallard.UdpLoad;

/// <summary>
/// A UDP relay that holds every datagram for a fixed one-way delay in each direction, giving a
/// loopback benchmark the round-trip time of a real path (netem does not work on these machines).
/// Each client address gets its own socket towards the target, as behind a NAT, so that
/// connections one after another never see each other's packets; the 64 most recent are kept.
/// </summary>
internal static class DelayRelay
{
    private const int MaxClients = 64;

    public static void Run(IPEndPoint listen, IPEndPoint target, TimeSpan oneWay)
    {
        using var front = new Socket(listen.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        front.Bind(listen);
        Console.WriteLine($"relay on {front.LocalEndPoint} to {target}, {oneWay.TotalMilliseconds} ms each way");
        long delay = (long)(oneWay.TotalSeconds * Stopwatch.Frequency);
        var due = new BlockingCollection<(long Due, Socket Socket, EndPoint To, byte[] Data)>();
        var backs = new Dictionary<EndPoint, Socket>();
        var order = new Queue<EndPoint>();

        // Both directions wait the same time, so arrival order is sending order: one FIFO.
        var sender = new Thread(() =>
        {
            foreach ((long when, Socket socket, EndPoint to, byte[] data) in due.GetConsumingEnumerable())
            {
                long wait = when - Stopwatch.GetTimestamp();
                if (wait > 0)
                {
                    Thread.Sleep(TimeSpan.FromSeconds((double)wait / Stopwatch.Frequency));
                }

                try
                {
                    socket.SendTo(data, to);
                }
                catch (SocketException)
                {
                    // a closed mapping or an unreachable port: as lost on a real path
                }
                catch (ObjectDisposedException)
                {
                }
            }
        }) { IsBackground = true, Priority = ThreadPriority.AboveNormal };
        sender.Start();

        byte[] buffer = new byte[65_536];
        EndPoint from = new IPEndPoint(listen.AddressFamily == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any, 0);
        while (true)
        {
            int length = front.ReceiveFrom(buffer, ref from);
            if (!backs.TryGetValue(from, out Socket? back))
            {
                back = OpenMapping(target, front, from, delay, due);
                backs[from] = back;
                order.Enqueue(from);
                if (order.Count > MaxClients)
                {
                    EndPoint oldest = order.Dequeue();
                    backs.Remove(oldest, out Socket? closed);
                    closed?.Dispose();
                }
            }

            due.Add((Stopwatch.GetTimestamp() + delay, back, target, buffer.AsSpan(0, length).ToArray()));
        }
    }

    /// <summary>A socket towards the target for one client; what comes back goes to that client after the delay.</summary>
    private static Socket OpenMapping(IPEndPoint target, Socket front, EndPoint client, long delay, BlockingCollection<(long, Socket, EndPoint, byte[])> due)
    {
        var back = new Socket(target.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        back.Bind(new IPEndPoint(target.AddressFamily == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Loopback : IPAddress.Loopback, 0));
        EndPoint clientCopy = client.Create(client.Serialize());
        _ = Task.Run(async () =>
        {
            byte[] buffer = new byte[65_536];
            try
            {
                while (true)
                {
                    int length = await back.ReceiveAsync(buffer);
                    due.Add((Stopwatch.GetTimestamp() + delay, front, clientCopy, buffer.AsSpan(0, length).ToArray()));
                }
            }
            catch (Exception failure) when (failure is SocketException or ObjectDisposedException)
            {
                // the mapping was closed
            }
        });
        return back;
    }
}
