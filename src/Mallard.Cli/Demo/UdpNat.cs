using System.Net;
using System.Net.Sockets;

namespace Mallard.Cli.Demo;

/// <summary>
/// A one-client NAT on loopback for the demo: the client talks to <see cref="EndPoint"/>, and the
/// NAT relays its datagrams to the balancer from its own public socket. <see cref="Rebind"/> gives
/// the client a new public port and forgets the old mapping, as a home router or a carrier NAT
/// does when a mapping times out: the client notices nothing, the other side sees a new address.
/// </summary>
internal sealed class UdpNat : IAsyncDisposable
{
    private readonly Socket _inside = new(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
    private readonly IPEndPoint _target;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _outbound;
    private Socket _public;
    private Task _inbound;
    private EndPoint? _client;

    public UdpNat(IPEndPoint target)
    {
        _target = target;
        _inside.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _public = NewPublicSocket();
        _outbound = Task.Run(OutboundAsync);
        _inbound = Task.Run(() => InboundAsync(_public));
    }

    /// <summary>Where the client sends.</summary>
    public IPEndPoint EndPoint => (IPEndPoint)_inside.LocalEndPoint!;

    /// <summary>The client's address as the balancer sees it.</summary>
    public IPEndPoint PublicEndPoint => (IPEndPoint)_public.LocalEndPoint!;

    /// <summary>A new public port; what arrives at the old one is lost from now on.</summary>
    public void Rebind()
    {
        Socket old = _public;
        _public = NewPublicSocket();
        _inbound = Task.Run(() => InboundAsync(_public));
        old.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        _inside.Dispose();
        _public.Dispose();
        await Task.WhenAll(_outbound, _inbound).ContinueWith(_ => { }, TaskScheduler.Default).ConfigureAwait(false);
        _stop.Dispose();
    }

    private static Socket NewPublicSocket()
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return socket;
    }

    private async Task OutboundAsync()
    {
        byte[] buffer = new byte[65_536];
        while (!_stop.IsCancellationRequested)
        {
            SocketReceiveFromResult received = await _inside.ReceiveFromAsync(buffer, new IPEndPoint(IPAddress.Any, 0), _stop.Token).ConfigureAwait(false);
            _client = received.RemoteEndPoint;
            try
            {
                await _public.SendToAsync(buffer.AsMemory(0, received.ReceivedBytes), _target, _stop.Token).ConfigureAwait(false);
            }
            catch (ObjectDisposedException)
            {
                // Caught in the middle of a rebinding: the datagram is lost, as in a real NAT.
            }
        }
    }

    private async Task InboundAsync(Socket publicSocket)
    {
        byte[] buffer = new byte[65_536];
        while (!_stop.IsCancellationRequested)
        {
            SocketReceiveFromResult received = await publicSocket.ReceiveFromAsync(buffer, new IPEndPoint(IPAddress.Any, 0), _stop.Token).ConfigureAwait(false);
            if (_client is not null)
            {
                await _inside.SendToAsync(buffer.AsMemory(0, received.ReceivedBytes), _client, _stop.Token).ConfigureAwait(false);
            }
        }
    }
}
