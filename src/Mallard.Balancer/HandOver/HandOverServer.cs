using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace Mallard.Balancer.HandOver;

/// <summary>
/// The running balancer's end of a hand-over: a Unix socket at <c>Proxy:HandOverSocket</c>
/// where a successor process (a new <c>mallard lb</c> with the same setting, started by hand, by
/// SIGUSR2 or by <c>systemctl reload</c>) asks for the sockets and flows. Serves one successor at
/// a time on a thread of its own; a failed hand-over leaves this balancer forwarding as before.
/// </summary>
/// <remarks>
/// The socket file is created under a private name and renamed into place, so a successor that is
/// starting finds either the old balancer's socket or the new one's, never none; it is readable
/// and writable by the balancer's user alone (mode 0600).
/// </remarks>
internal sealed class HandOverServer : IDisposable
{
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(5);

    // Forwarding is paused until the successor says Ready. It has prepared everything before
    // asking (milliseconds are what it needs, 0.2 s the most seen on a saturated machine), so one
    // that is silent this long is broken: this balancer resumes.
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(10);

    private readonly Socket _socket;
    private readonly LoadBalancer _balancer;
    private readonly ILogger _logger;
    private readonly Thread _thread;
    private volatile bool _stopping;
    private bool _handedOver;

    private HandOverServer(string path, Socket socket, LoadBalancer balancer, ILogger logger)
    {
        Path = path;
        _socket = socket;
        _balancer = balancer;
        _logger = logger;
        _thread = new Thread(Serve) { IsBackground = true, Name = "mallard-lb hand-over" };
    }

    public string Path { get; }

    /// <summary>Listens at <paramref name="path"/> (replacing whatever socket file is there) and starts serving.</summary>
    public static HandOverServer Start(string path, LoadBalancer balancer, ILogger logger)
    {
        string staging = $"{path}.{Environment.ProcessId}";
        File.Delete(staging);
        Socket socket = DescriptorChannel.OpenSocket();
        try
        {
            socket.Bind(new UnixDomainSocketEndPoint(staging));
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(staging, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            }

            socket.Listen(1);
            File.Move(staging, path, overwrite: true);
        }
        catch
        {
            socket.Dispose();
            File.Delete(staging);
            throw;
        }

        var server = new HandOverServer(path, socket, balancer, logger);
        server._thread.Start();
        return server;
    }

    public void Dispose()
    {
        _stopping = true;
        _socket.Dispose();
        if (!_handedOver)
        {
            File.Delete(Path); // no successor: a balancer started next finds no socket and starts afresh
        }

        if (Thread.CurrentThread != _thread)
        {
            _thread.Join(TimeSpan.FromSeconds(5));
        }
    }

    private void Serve()
    {
        HandOverWarmUp.Prepare();
        while (!_stopping)
        {
            Socket connection;
            try
            {
                connection = _socket.Accept();
            }
            catch (Exception error) when (error is SocketException or ObjectDisposedException)
            {
                return;
            }

            using var channel = new DescriptorChannel(connection, RequestTimeout);
            if (HandOverTo(channel))
            {
                return;
            }
        }
    }

    // One successor: true when it took everything over (this balancer then stops).
    private bool HandOverTo(DescriptorChannel channel)
    {
        byte[] buffer = new byte[DescriptorChannel.MaxMessageSize];
        int successor;
        try
        {
            int length = channel.Receive(buffer, []);
            successor = HandOverProtocol.ReadRequest(buffer.AsSpan(0, length));
        }
        catch (Exception error) when (error is IOException or InvalidDataException)
        {
            HandOverLog.Refused(_logger, error.Message);
            TrySend(channel, buffer, HandOverProtocol.Kind.Refused, error.Message);
            return false;
        }

        HandOverLog.Starting(_logger, successor);
        IReadOnlyList<(HandedItem Item, Socket Socket)> items = _balancer.PauseForHandOver();
        long paused = System.Diagnostics.Stopwatch.GetTimestamp();
        try
        {
            SendItems(channel, buffer, items);
            channel.Send(buffer.AsSpan(0, HandOverProtocol.WriteEnd(buffer, items.Count)), []);
            int length = ReceiveWithin(channel, buffer, ReadyTimeout);
            if (length == 0 || (HandOverProtocol.Kind)buffer[0] != HandOverProtocol.Kind.Ready)
            {
                throw new IOException(length == 0 ? "the successor closed the connection" : $"the successor said: {HandOverProtocol.ReadText(buffer.AsSpan(0, length))}");
            }

            double pause = System.Diagnostics.Stopwatch.GetElapsedTime(paused).TotalMilliseconds;
            _balancer.ReleaseForHandOver(items);
            _handedOver = true;
            TrySend(channel, buffer, HandOverProtocol.Kind.Released);
            HandOverLog.Completed(_logger, successor, items.Count(i => !i.Item.IsFlow), items.Count(i => i.Item.IsFlow), pause);
            _balancer.CompleteHandOver(successor);
            return true;
        }
        catch (Exception error) when (error is IOException or SocketException)
        {
            HandOverLog.Failed(_logger, successor, error.Message);
            _balancer.ResumeAfterHandOver();
            return false;
        }
    }

    private static void SendItems(DescriptorChannel channel, byte[] buffer, IReadOnlyList<(HandedItem Item, Socket Socket)> items)
    {
        var batch = new List<HandedItem>(DescriptorChannel.MaxDescriptors);
        var descriptors = new int[DescriptorChannel.MaxDescriptors];
        for (int first = 0; first < items.Count; first += DescriptorChannel.MaxDescriptors)
        {
            batch.Clear();
            int count = Math.Min(DescriptorChannel.MaxDescriptors, items.Count - first);
            for (int i = 0; i < count; i++)
            {
                batch.Add(items[first + i].Item);
                descriptors[i] = (int)items[first + i].Socket.SafeHandle.DangerousGetHandle();
            }

            int length = HandOverProtocol.WriteSockets(buffer, batch);
            channel.Send(buffer.AsSpan(0, length), descriptors.AsSpan(0, count));
        }
    }

    private static int ReceiveWithin(DescriptorChannel channel, byte[] buffer, TimeSpan timeout)
    {
        var descriptors = new List<int>();
        channel.Timeout = timeout;
        int length = channel.Receive(buffer, descriptors);
        descriptors.ForEach(fd => Mallard.Linux.LinuxNative.close(fd)); // none are expected this way
        return length;
    }

    private static void TrySend(DescriptorChannel channel, byte[] buffer, HandOverProtocol.Kind kind, string text = "")
    {
        try
        {
            channel.Send(buffer.AsSpan(0, HandOverProtocol.WriteSignal(buffer, kind, text)), []);
        }
        catch (IOException)
        {
            // The peer is gone; nothing more to tell it.
        }
    }
}
