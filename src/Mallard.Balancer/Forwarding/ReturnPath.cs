using System.Net;
using Mallard.Balancer.Routing;

namespace Mallard.Balancer.Forwarding;

/// <summary>
/// Where a flow's replies go. Immutable and swapped whole, so a thread that reads it while
/// another moves it sees either the old or the new address, never a mix.
/// </summary>
internal sealed class ReturnPath
{
    public ReturnPath(EndpointKey key, SocketAddress address)
    {
        Key = key;
        Address = address;
    }

    public EndpointKey Key { get; }

    /// <summary>A private copy of the client's address (receive buffers are reused).</summary>
    public SocketAddress Address { get; }

    public static ReturnPath CopyOf(EndpointKey key, SocketAddress received)
    {
        var copy = new SocketAddress(received.Family, received.Size);
        received.Buffer.Span[..received.Size].CopyTo(copy.Buffer.Span);
        return new ReturnPath(key, copy);
    }
}
