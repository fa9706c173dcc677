using System.Net;
using System.Net.Sockets;
using Mallard.Quic.Hosting.Linux;

namespace Mallard.Quic.Tests.Hosting.Linux;

public class BatchSenderTests
{
    [Fact]
    public void ADatagramBatchForTwoPeersArrivesWholeAndInOrderAtEach()
    {
        Assert.True(BatchReceiver.IsSupported, "the batched send path needs Linux on x86-64 or arm64");
        using Socket sending = Bound();
        using Socket first = Bound();
        using Socket second = Bound();
        using var batch = new BatchSender(16, 1_500);

        // A run of equal-sized datagrams to one peer (one GSO message), a short one ending it, then
        // datagrams alternating between the peers (one sendmmsg each).
        var expected = new Dictionary<EndPoint, List<byte[]>> { [first.LocalEndPoint!] = [], [second.LocalEndPoint!] = [] };
        for (int i = 0; i < 16; i++)
        {
            EndPoint to = i < 9 || i % 2 == 0 ? first.LocalEndPoint! : second.LocalEndPoint!;
            int length = i == 8 ? 300 : 1_350;
            byte[] datagram = new byte[length];
            datagram[0] = (byte)i;
            datagram[^1] = (byte)(i + 100);
            datagram.CopyTo(batch.Slot(i));
            batch.Set(i, length, to.Serialize());
            expected[to].Add(datagram);
        }

        batch.Flush(sending, 16);

        Assert.Equal(0, batch.Failed);
        Assert.True(batch.Segmented >= 8, $"only {batch.Segmented} datagrams went out segmented (GSO)");
        foreach ((EndPoint peer, List<byte[]> datagrams) in expected)
        {
            Socket socket = peer.Equals(first.LocalEndPoint) ? first : second;
            socket.ReceiveTimeout = 2_000;
            foreach (byte[] datagram in datagrams)
            {
                byte[] buffer = new byte[2_000];
                int length = socket.Receive(buffer);
                Assert.Equal(datagram, buffer[..length]);
            }
        }
    }

    [Fact]
    public void ARunWithADatagramThatStandsAloneIsNotSegmented()
    {
        Assert.True(BatchReceiver.IsSupported, "the batched send path needs Linux on x86-64 or arm64");
        using Socket sending = Bound();
        using Socket receiving = Bound();
        using var batch = new BatchSender(4, 1_500);
        for (int i = 0; i < 4; i++)
        {
            batch.Slot(i)[..1_200].Fill((byte)i);
            batch.Set(i, 1_200, receiving.LocalEndPoint!.Serialize(), standsAlone: i == 1); // two probes of a handshake, say
        }

        batch.Flush(sending, 4);

        // Four datagrams arrive, as four packets all the way (none was joined into a GSO message).
        Assert.Equal(0, batch.Segmented);
        receiving.ReceiveTimeout = 2_000;
        for (int i = 0; i < 4; i++)
        {
            byte[] buffer = new byte[2_000];
            Assert.Equal(1_200, receiving.Receive(buffer));
            Assert.Equal((byte)i, buffer[0]);
        }
    }

    private static Socket Bound()
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return socket;
    }
}
