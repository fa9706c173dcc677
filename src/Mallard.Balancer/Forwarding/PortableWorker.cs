using System.Net;
using System.Net.Sockets;
using Mallard.Balancer.Routing;

namespace Mallard.Balancer.Forwarding;

/// <summary>
/// The portable data plane: blocking .NET socket calls on the listening socket, and one receive
/// loop per flow that sends the backend's replies back to the client from the listening socket.
/// </summary>
internal sealed class PortableWorker(Socket socket, FlowTable flows, RoutingState routing, string name, int maxDatagramSize)
    : ListenerWorker(socket, flows, routing, name, maxDatagramSize)
{
    public override bool IsBatched => false;

    protected override void Run()
    {
        byte[] buffer = GC.AllocateUninitializedArray<byte>(65_536, pinned: true);
        var from = new SocketAddress(Socket.AddressFamily);
        long lastSweep = Flows.Now;
        TakeAdopted();
        while (!Stopping)
        {
            int received = -1;
            try
            {
                received = Socket.ReceiveFrom(buffer, SocketFlags.None, from);
            }
            catch (SocketException error) when (error.SocketErrorCode is SocketError.TimedOut or SocketError.WouldBlock
                or SocketError.ConnectionReset or SocketError.MessageSize or SocketError.Interrupted)
            {
                // A timeout lets the thread sweep while idle; the rest concern one datagram only.
            }
            catch (SocketException) when (Stopping)
            {
                return;
            }
            catch (ObjectDisposedException)
            {
                return;
            }

            long now = Flows.Now;
            if (received >= 0)
            {
                Received++;
                Resolve(buffer.AsSpan(0, received), from, now)?.Send(buffer.AsSpan(0, received), now);
            }

            if (now - lastSweep >= SweepIntervalMilliseconds)
            {
                lastSweep = now;
                Router.Sweep(now);
            }
        }
    }

    protected override void OnFlowOpened(Upstream upstream) => _ = RelayRepliesAsync(upstream);

    private async Task RelayRepliesAsync(Upstream upstream)
    {
        // One extra octet tells a datagram that fills the buffer from one that was cut short.
        byte[] buffer = GC.AllocateUninitializedArray<byte>(MaxDatagramSize + 1);
        while (!upstream.IsClosed)
        {
            int received;
            try
            {
                received = await upstream.Socket.ReceiveAsync(buffer, SocketFlags.None).ConfigureAwait(false);
            }
            catch (SocketException error) when (error.SocketErrorCode is SocketError.ConnectionRefused or SocketError.ConnectionReset)
            {
                upstream.NoteUnreachable();
                continue;
            }
            catch (SocketException) when (upstream.IsClosed)
            {
                return;
            }
            catch (ObjectDisposedException)
            {
                return;
            }
            catch (SocketException)
            {
                continue;
            }

            long now = Flows.Now;
            if (!upstream.NoteReply(received, now))
            {
                continue;
            }

            try
            {
                Socket.SendTo(buffer.AsSpan(0, received), SocketFlags.None, upstream.ReplyDestination(received, now, Flows.HoldMilliseconds));
            }
            catch (Exception error) when (error is SocketException or ObjectDisposedException)
            {
                Flows.CountClientSendError();
            }
        }
    }
}
