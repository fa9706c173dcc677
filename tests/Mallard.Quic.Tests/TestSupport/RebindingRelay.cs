using System.Net;
using System.Net.Sockets;

namespace Mallard.Quic.Tests.TestSupport;

/// <summary>
/// A loopback stand-in for a NAT: it relays one client's datagrams to a server from its own
/// socket, and <see cref="Rebind"/> moves that socket to a new port and closes the old one, so
/// the server sees the client arrive from a new address and can no longer reach the old one.
/// </summary>
internal sealed class RebindingRelay : IAsyncDisposable
{
    private readonly Socket _front = new(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
    private readonly IPEndPoint _server;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _forward;
    private Socket _back;
    private Task _backward;
    private EndPoint? _client;

    public RebindingRelay(IPEndPoint server)
    {
        _server = server;
        _front.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _back = NewBack();
        _forward = Task.Run(ForwardAsync);
        _backward = Task.Run(() => BackwardAsync(_back));
    }

    /// <summary>Where the client should connect.</summary>
    public IPEndPoint EndPoint => (IPEndPoint)_front.LocalEndPoint!;

    /// <summary>The address the server sees now.</summary>
    public IPEndPoint PublicEndPoint => (IPEndPoint)_back.LocalEndPoint!;

    /// <summary>Moves to a new public port and forgets the old one, as a NAT that lost its mapping.</summary>
    public void Rebind()
    {
        Socket old = _back;
        _back = NewBack();
        _backward = Task.Run(() => BackwardAsync(_back));
        old.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _front.Dispose();
        _back.Dispose();
        await Task.WhenAll(_forward.ContinueWith(_ => { }, TaskScheduler.Default), _backward.ContinueWith(_ => { }, TaskScheduler.Default));
        _stop.Dispose();
    }

    private static Socket NewBack()
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return socket;
    }

    private async Task ForwardAsync()
    {
        byte[] buffer = new byte[65_536];
        while (!_stop.IsCancellationRequested)
        {
            SocketReceiveFromResult received = await _front.ReceiveFromAsync(buffer, new IPEndPoint(IPAddress.Any, 0), _stop.Token);
            _client = received.RemoteEndPoint;
            try
            {
                await _back.SendToAsync(buffer.AsMemory(0, received.ReceivedBytes), _server, _stop.Token);
            }
            catch (ObjectDisposedException)
            {
                // Rebinding at this moment: the datagram is lost, as a NAT would lose it.
            }
        }
    }

    private async Task BackwardAsync(Socket back)
    {
        byte[] buffer = new byte[65_536];
        while (!_stop.IsCancellationRequested)
        {
            SocketReceiveFromResult received = await back.ReceiveFromAsync(buffer, new IPEndPoint(IPAddress.Any, 0), _stop.Token);
            if (_client is not null)
            {
                await _front.SendToAsync(buffer.AsMemory(0, received.ReceivedBytes), _client, _stop.Token);
            }
        }
    }
}
