using System.Net;
using Mallard.Balancer.HandOver;
using Mallard.Balancer.Routing;

namespace Mallard.Balancer.Tests.HandOver;

/// <summary>The hand-over messages: what is written is read back, and anything malformed is refused, never half read.</summary>
public sealed class HandOverProtocolTests
{
    [Fact]
    public void ListeningSocketsAndFlowsComeBackAsWritten()
    {
        var flow = new HandedItem("[::1]:4433")
        {
            Client = new IPEndPoint(IPAddress.Parse("2001:db8::7"), 50_000).Serialize(),
            Backend = new IPEndPoint(IPAddress.Parse("10.0.0.2"), 4434),
            Answered = true,
            IdleMilliseconds = 1234,
            ConnectionIds = [new ConnectionIdKey([1, 2, 3, 4, 5, 6, 7, 8]), new ConnectionIdKey(new byte[20])],
        };
        byte[] buffer = new byte[DescriptorChannel.MaxMessageSize];
        int length = HandOverProtocol.WriteSockets(buffer, [new HandedItem("127.0.0.1:4433"), flow]);

        List<HandedItem> read = HandOverProtocol.ReadSockets(buffer.AsSpan(0, length));

        Assert.Equal(2, read.Count);
        Assert.False(read[0].IsFlow);
        Assert.Equal("127.0.0.1:4433", read[0].Listener);
        Assert.True(read[1].IsFlow);
        Assert.Equal(flow.Listener, read[1].Listener);
        Assert.Equal(flow.Client, read[1].Client);
        Assert.Equal(flow.Backend, read[1].Backend);
        Assert.True(read[1].Answered);
        Assert.Equal(1234, read[1].IdleMilliseconds);
        Assert.Equal(flow.ConnectionIds, read[1].ConnectionIds);
    }

    [Fact]
    public void AMessageCutShortAnywhereIsRefused()
    {
        var flow = new HandedItem("127.0.0.1:4433")
        {
            Client = new IPEndPoint(IPAddress.Loopback, 5).Serialize(),
            Backend = new IPEndPoint(IPAddress.Loopback, 6),
            ConnectionIds = [new ConnectionIdKey([9, 9, 9, 9])],
        };
        byte[] buffer = new byte[DescriptorChannel.MaxMessageSize];
        int length = HandOverProtocol.WriteSockets(buffer, [flow, flow]);
        for (int cut = 0; cut < length; cut++)
        {
            Assert.Throws<InvalidDataException>(() => HandOverProtocol.ReadSockets(buffer.AsSpan(0, cut)));
        }
    }

    [Theory]
    [InlineData(0, "not a mallard lb hand-over request")]
    [InlineData(1, "not a mallard lb hand-over request")]
    [InlineData(6, "hand-over protocol version 257; this build speaks version 1")]
    public void ARequestIsCheckedForMagicAndVersion(int octet, string message)
    {
        byte[] buffer = new byte[16];
        int length = HandOverProtocol.WriteRequest(buffer, 77);
        Assert.Equal(77, HandOverProtocol.ReadRequest(buffer.AsSpan(0, length)));
        buffer[octet] ^= 1;
        Assert.Equal(message, Assert.Throws<InvalidDataException>(() => HandOverProtocol.ReadRequest(buffer.AsSpan(0, length))).Message);
    }

    [Fact]
    public void AFlowWhoseClientIsNotAnIpAddressIsRefused()
    {
        var flow = new HandedItem("127.0.0.1:4433")
        {
            Client = new System.Net.Sockets.UnixDomainSocketEndPoint("/tmp/x").Serialize(),
            Backend = new IPEndPoint(IPAddress.Loopback, 6),
        };
        byte[] buffer = new byte[DescriptorChannel.MaxMessageSize];
        int length = HandOverProtocol.WriteSockets(buffer, [flow]);
        Assert.Throws<InvalidDataException>(() => HandOverProtocol.ReadSockets(buffer.AsSpan(0, length)));
    }
}
