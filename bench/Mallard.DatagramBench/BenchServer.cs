using System.Buffers.Binary;
using System.Net;
using Mallard.Quic;

namespace Mallard.DatagramBench;

/// <summary>Echoes datagrams and answers download requests until killed.</summary>
internal static class BenchServer
{
    public static async Task RunAsync(IPEndPoint address)
    {
        await using QuicListener listener = await QuicListener.ListenAsync(new QuicListenerOptions
        {
            ListenEndPoint = address,
            ApplicationProtocols = BenchProtocol.ApplicationProtocols,
            ConnectionOptions = new QuicConnectionOptions { EnableDatagrams = true },
            EarlyData = true, // bench/zerortt.sh; only resumed connections that offer it use it
        });
        Console.WriteLine($"listening on {listener.LocalEndPoint}");
        while (true)
        {
            QuicConnection connection = await listener.AcceptConnectionAsync();
            _ = Task.Run(() => EchoAsync(connection));
            _ = Task.Run(() => ServeStreamsAsync(connection));
        }
    }

    private static async Task EchoAsync(QuicConnection connection)
    {
        await foreach (byte[] datagram in connection.ReadDatagramsAsync())
        {
            connection.TrySendDatagram(datagram);
        }
    }

    private static async Task ServeStreamsAsync(QuicConnection connection)
    {
        try
        {
            while (true)
            {
                QuicStream stream = await connection.AcceptInboundStreamAsync();
                _ = Task.Run(async () =>
                {
                    await using (stream)
                    {
                        byte[] header = new byte[8];
                        await stream.ReadExactlyAsync(header);
                        long remaining = BinaryPrimitives.ReadInt64BigEndian(header);
                        byte[] chunk = new byte[64 * 1024];
                        while (remaining > 0)
                        {
                            int length = (int)Math.Min(chunk.Length, remaining);
                            await stream.WriteAsync(chunk.AsMemory(0, length));
                            remaining -= length;
                        }

                        stream.CompleteWrites();
                    }
                });
            }
        }
        catch (QuicException)
        {
        }
    }
}
