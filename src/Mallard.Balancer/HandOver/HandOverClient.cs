using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace Mallard.Balancer.HandOver;

/// <summary>
/// A starting balancer's end of a hand-over (see <see cref="HandOverProtocol"/>): connects to the
/// running balancer's <c>Proxy:HandOverSocket</c>, receives its listening and upstream sockets
/// with the flows' state, and, once forwarding on them, tells it to go.
/// </summary>
internal sealed class HandOverClient : IDisposable
{
    // The running balancer pauses forwarding while it answers: it has no reason to be slow.
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    private readonly DescriptorChannel _channel;
    private readonly byte[] _buffer = new byte[DescriptorChannel.MaxMessageSize];

    private HandOverClient(DescriptorChannel channel) => _channel = channel;

    /// <summary>The running balancer's process ID, known once <see cref="TakeOver"/> returns.</summary>
    public int Predecessor { get; private set; }

    /// <summary>Connects to a running balancer at <paramref name="path"/>; null when none answers there.</summary>
    public static HandOverClient? TryConnect(string path, ILogger logger)
    {
        if (!File.Exists(path))
        {
            return null;
        }

        Socket socket = DescriptorChannel.OpenSocket();
        try
        {
            socket.Connect(new UnixDomainSocketEndPoint(path));
            return new HandOverClient(new DescriptorChannel(socket, Timeout));
        }
        catch (SocketException error)
        {
            socket.Dispose();
            HandOverLog.NoPredecessor(logger, path, error.SocketErrorCode == SocketError.ConnectionRefused ? "a stale socket file, nobody listens on it" : error.Message);
            return null;
        }
    }

    /// <summary>
    /// Asks for everything and receives it: each listening and upstream socket with what it is.
    /// The running balancer has stopped forwarding when this returns; datagrams queue on the
    /// sockets until this process reads them.
    /// </summary>
    /// <exception cref="HandOverRefusedException">The running balancer refused (it forwards on).</exception>
    /// <exception cref="IOException">The connection broke or carried something malformed; whatever was received is closed.</exception>
    public List<(HandedItem Item, Socket Socket)> TakeOver()
    {
        var received = new List<(HandedItem Item, Socket Socket)>();
        var descriptors = new List<int>();
        try
        {
            _channel.Send(_buffer.AsSpan(0, HandOverProtocol.WriteRequest(_buffer, Environment.ProcessId)), []);
            while (true)
            {
                descriptors.Clear();
                int length = _channel.Receive(_buffer, descriptors);
                List<Socket> sockets = Wrap(descriptors);
                if (length == 0)
                {
                    sockets.ForEach(s => s.Dispose());
                    throw new IOException("the running balancer closed the connection during the hand-over");
                }

                ReadOnlySpan<byte> message = _buffer.AsSpan(0, length);
                switch ((HandOverProtocol.Kind)message[0])
                {
                    case HandOverProtocol.Kind.Sockets:
                        List<HandedItem> items = ParseOrClose(message, sockets);
                        if (items.Count != sockets.Count)
                        {
                            sockets.ForEach(s => s.Dispose());
                            throw new IOException($"a hand-over message described {items.Count} sockets and carried {sockets.Count}");
                        }

                        for (int i = 0; i < items.Count; i++)
                        {
                            received.Add((items[i], sockets[i]));
                        }

                        break;
                    case HandOverProtocol.Kind.End:
                        sockets.ForEach(s => s.Dispose());
                        (int total, int predecessor) = HandOverProtocol.ReadEnd(message);
                        if (total != received.Count)
                        {
                            throw new IOException($"the hand-over announced {total} sockets and carried {received.Count}");
                        }

                        Predecessor = predecessor;
                        return received;
                    case HandOverProtocol.Kind.Refused:
                        sockets.ForEach(s => s.Dispose());
                        throw new HandOverRefusedException(HandOverProtocol.ReadText(message));
                    default:
                        sockets.ForEach(s => s.Dispose());
                        throw new IOException($"unexpected hand-over message {message[0]}");
                }
            }
        }
        catch
        {
            descriptors.ForEach(fd => Mallard.Linux.LinuxNative.close(fd));
            received.ForEach(r => r.Socket.Dispose());
            throw;
        }
    }

    /// <summary>
    /// Tells the running balancer that this one forwards now, and waits until it has let go of
    /// the flow journal (or is gone).
    /// </summary>
    public void Ready()
    {
        try
        {
            _channel.Send(_buffer.AsSpan(0, HandOverProtocol.WriteSignal(_buffer, HandOverProtocol.Kind.Ready)), []);
            _channel.Receive(_buffer, []);
        }
        catch (IOException)
        {
            // It went away without a word: its journal lock went with it.
        }
    }

    public void Dispose() => _channel.Dispose();

    /// <summary>
    /// Takes ownership of received descriptors as UDP sockets; anything else (a peer that is not a
    /// balancer could send any descriptor) closes them all and fails the take-over.
    /// </summary>
    private static List<Socket> Wrap(List<int> descriptors)
    {
        var sockets = new List<Socket>(descriptors.Count);
        var handles = descriptors.ConvertAll(fd => new SafeSocketHandle(fd, ownsHandle: true)); // each closes its own from here on
        descriptors.Clear();
        try
        {
            foreach (SafeSocketHandle handle in handles)
            {
                var socket = new Socket(handle);
                sockets.Add(socket);
                if (socket.SocketType != SocketType.Dgram || socket.AddressFamily is not (AddressFamily.InterNetwork or AddressFamily.InterNetworkV6))
                {
                    throw new IOException("the hand-over carried a descriptor that is not a UDP socket");
                }
            }

            return sockets;
        }
        catch (Exception error) when (error is SocketException or IOException)
        {
            sockets.ForEach(s => s.Dispose());
            handles.ForEach(h => h.Dispose());
            throw error as IOException ?? new IOException($"the hand-over carried a descriptor that is not a socket: {error.Message}", error);
        }
    }

    private static List<HandedItem> ParseOrClose(ReadOnlySpan<byte> message, List<Socket> sockets)
    {
        try
        {
            return HandOverProtocol.ReadSockets(message);
        }
        catch (InvalidDataException error)
        {
            sockets.ForEach(s => s.Dispose());
            throw new IOException(error.Message, error);
        }
    }
}
