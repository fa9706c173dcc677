using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Mallard.QuicLb.Invariants;

namespace Mallard.Balancer.Tests.TestSupport;

/// <summary>
/// A UDP backend on loopback that behaves as a QUIC server does towards the balancer: it answers
/// reserved-version probes with Version Negotiation, and echoes every other datagram prefixed
/// with its name, remembering who sent what.
/// </summary>
internal sealed class UdpTestBackend : IDisposable
{
    private readonly Socket _socket;
    private readonly Thread _thread;
    private volatile bool _stopped;
    private volatile bool _answerProbes;

    public UdpTestBackend(string name, bool answerProbes = true)
    {
        Name = name;
        AnswerProbes = answerProbes;
        _socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        _socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _socket.ReceiveBufferSize = 4 << 20;
        _thread = new Thread(Run) { IsBackground = true, Name = "test backend " + name };
        _thread.Start();
    }

    public string Name { get; }

    /// <summary>When false the backend ignores probes, as a dead or non-QUIC server would.</summary>
    public bool AnswerProbes
    {
        get => _answerProbes;
        set => _answerProbes = value;
    }

    public IPEndPoint Endpoint => (IPEndPoint)_socket.LocalEndPoint!;

    /// <summary>Which datagrams get an echo (all by default); a QUIC server answers nothing that does not decrypt.</summary>
    public Func<byte[], bool> Answers { get; set; } = _ => true;

    /// <summary>Non-probe datagrams received, with the address each came from.</summary>
    public ConcurrentQueue<(IPEndPoint From, byte[] Datagram)> Received { get; } = new();

    public int ProbesAnswered;

    public void Dispose()
    {
        _stopped = true;
        _socket.Dispose();
    }

    private void Run()
    {
        byte[] buffer = new byte[65_536];
        EndPoint from = new IPEndPoint(IPAddress.Any, 0);
        while (!_stopped)
        {
            int length;
            try
            {
                length = _socket.ReceiveFrom(buffer, ref from);
            }
            catch (Exception error) when (error is SocketException or ObjectDisposedException)
            {
                if (_stopped)
                {
                    return;
                }

                continue;
            }

            ReadOnlySpan<byte> datagram = buffer.AsSpan(0, length);
            if (QuicHeaderReader.TryRead(datagram, 0, out QuicPacketHeader header) == QuicHeaderError.None
                && header.IsLongHeader && QuicVersion.IsReservedForNegotiation(header.Version))
            {
                if (AnswerProbes)
                {
                    Interlocked.Increment(ref ProbesAnswered);
                    SendTo(VersionNegotiation(header.SourceConnectionId, header.DestinationConnectionId), from);
                }

                continue;
            }

            var sender = (IPEndPoint)from;
            byte[] copy = datagram.ToArray();
            Received.Enqueue((new IPEndPoint(sender.Address, sender.Port), copy));
            if (!Answers(copy))
            {
                continue;
            }

            byte[] reply = [.. System.Text.Encoding.ASCII.GetBytes(Name + ":"), .. datagram];
            SendTo(reply, from);
        }
    }

    private void SendTo(byte[] datagram, EndPoint to)
    {
        try
        {
            _socket.SendTo(datagram, to);
        }
        catch (Exception error) when (error is SocketException or ObjectDisposedException)
        {
        }
    }

    private static byte[] VersionNegotiation(ReadOnlySpan<byte> destination, ReadOnlySpan<byte> source)
    {
        var packet = new byte[7 + destination.Length + source.Length + 4];
        packet[0] = 0x80;
        packet[5] = (byte)destination.Length;
        destination.CopyTo(packet.AsSpan(6));
        packet[6 + destination.Length] = (byte)source.Length;
        source.CopyTo(packet.AsSpan(7 + destination.Length));
        BinaryPrimitives.WriteUInt32BigEndian(packet.AsSpan(packet.Length - 4), 1);
        return packet;
    }
}
