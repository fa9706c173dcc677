using System.Buffers.Binary;
using System.Net;
using Mallard.Quic;
using Mallard.Quic.Connections;
using Mallard.QuicLb;

namespace Mallard.Cli.Demo;

/// <summary>
/// One of the demo's QUIC servers (Mallard.Quic): its connection IDs carry its QUIC-LB server ID,
/// it answers a stream that asks for N octets with N octets, echoes datagrams, and reports when a
/// client turns up at a new address.
/// </summary>
internal sealed class DemoServer : IAsyncDisposable
{
    public const string ApplicationProtocol = "mallard-demo";

    private readonly QuicListener _listener;
    private readonly Action<string> _log;
    private readonly Task _accepting;

    private DemoServer(string name, string serverId, QuicListener listener, Action<string> log)
    {
        Name = name;
        ServerId = serverId;
        _listener = listener;
        _log = log;
        _accepting = Task.Run(AcceptAsync);
    }

    public string Name { get; }

    public string ServerId { get; }

    public IPEndPoint EndPoint => _listener.LocalEndPoint;

    private int _connections;

    /// <summary>Connections accepted so far.</summary>
    public int Connections => Volatile.Read(ref _connections);

    public static async Task<DemoServer> StartAsync(string name, string serverId, QuicLbConfig config, Action<string> log)
    {
        QuicListener listener = await QuicListener.ListenAsync(new QuicListenerOptions
        {
            ListenEndPoint = new IPEndPoint(IPAddress.Loopback, 0),
            ApplicationProtocols = [ApplicationProtocol],
            ConnectionIdGenerator = new QuicLbConnectionIdGenerator(config, Convert.FromHexString(serverId)),
            ConnectionOptions = new QuicConnectionOptions { EnableDatagrams = true },
        }).ConfigureAwait(false);
        return new DemoServer(name, serverId, listener, log);
    }

    public async ValueTask DisposeAsync()
    {
        await _listener.DisposeAsync().ConfigureAwait(false);
        await _accepting.ContinueWith(_ => { }, TaskScheduler.Default).ConfigureAwait(false);
    }

    private async Task AcceptAsync()
    {
        while (true)
        {
            QuicConnection connection = await _listener.AcceptConnectionAsync().ConfigureAwait(false);
            Interlocked.Increment(ref _connections);
            _log($"server {Name} accepted the connection from {connection.RemoteEndPoint} (the balancer's upstream port)");
            var closed = new CancellationTokenSource();
            _ = Task.Run(async () =>
            {
                await EchoDatagramsAsync(connection).ConfigureAwait(false); // ends when the connection does
                await closed.CancelAsync().ConfigureAwait(false);
            });
            _ = Task.Run(() => WatchAddressAsync(connection, closed));
            _ = Task.Run(() => ServeAsync(connection));
        }
    }

    private static async Task EchoDatagramsAsync(QuicConnection connection)
    {
        await foreach (byte[] datagram in connection.ReadDatagramsAsync().ConfigureAwait(false))
        {
            connection.TrySendDatagram(datagram);
        }
    }

    private async Task WatchAddressAsync(QuicConnection connection, CancellationTokenSource closed)
    {
        using (closed)
        {
            IPEndPoint seen = connection.RemoteEndPoint;
            using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(20));
            try
            {
                while (await timer.WaitForNextTickAsync(closed.Token).ConfigureAwait(false))
                {
                    IPEndPoint now = connection.RemoteEndPoint;
                    if (!now.Equals(seen))
                    {
                        _log($"server {Name} sees the client at a new address {now} (the balancer's new upstream port) and validates the path");
                        seen = now;
                    }
                }
            }
            catch (OperationCanceledException)
            {
            }
        }
    }

    private static async Task ServeAsync(QuicConnection connection)
    {
        try
        {
            await using QuicStream stream = await connection.AcceptInboundStreamAsync().ConfigureAwait(false);
            byte[] request = new byte[8];
            await stream.ReadExactlyAsync(request).ConfigureAwait(false);
            long remaining = BinaryPrimitives.ReadInt64BigEndian(request);
            byte[] chunk = new byte[64 * 1024];
            for (long offset = 0; remaining > 0;)
            {
                int length = (int)Math.Min(chunk.Length, remaining);
                DemoData.Fill(chunk.AsSpan(0, length), offset);
                await stream.WriteAsync(chunk.AsMemory(0, length)).ConfigureAwait(false);
                offset += length;
                remaining -= length;
            }

            stream.CompleteWrites();
        }
        catch (QuicException)
        {
            // The client went away.
        }
    }
}
