using System.Net;
using System.Net.Sockets;
using Mallard.Quic.Hosting.Linux;

namespace Mallard.Quic.Tests.Hosting.Linux;

public class BatchReceiverTests
{
    [Fact]
    public void WaitingDatagramsAreReadThirtyTwoAtATimeWithTheirSources()
    {
        Assert.True(BatchReceiver.IsSupported, "the batched receive path needs Linux on x86-64 or arm64");
        using var receiving = Bound();
        using var sender = Bound();
        for (int i = 0; i < 40; i++)
        {
            sender.SendTo(BitConverter.GetBytes(i), receiving.LocalEndPoint!);
        }

        using var batch = new BatchReceiver(1_500);
        var address = new SocketAddress(AddressFamily.InterNetwork);
        var payloads = new List<int>();
        var sources = new HashSet<EndPoint>();
        void Deliver(SocketAddress source, Span<byte> datagram)
        {
            payloads.Add(BitConverter.ToInt32(datagram));
            sources.Add(new IPEndPoint(IPAddress.Any, 0).Create(source));
        }

        SpinWait.SpinUntil(() => receiving.Available >= 40 * 4, 2_000);
        Assert.Equal(BatchReceiver.BatchSize, batch.Receive(receiving, address, Deliver, out _));
        Assert.Equal(8, batch.Receive(receiving, address, Deliver, out _));
        Assert.Equal(0, batch.Receive(receiving, address, Deliver, out _)); // nothing waits: no blocking

        Assert.Equal(Enumerable.Range(0, 40), payloads);
        Assert.Equal(sender.LocalEndPoint, Assert.Single(sources));
    }

    [Fact]
    public void ADatagramLargerThanASlotIsDroppedAndCounted()
    {
        using var receiving = Bound();
        using var sender = Bound();
        sender.SendTo(new byte[2_000], receiving.LocalEndPoint!);
        sender.SendTo(new byte[1_500], receiving.LocalEndPoint!);
        using var batch = new BatchReceiver(1_500);
        var lengths = new List<int>();

        SpinWait.SpinUntil(() => receiving.Available > 0, 2_000);
        Thread.Sleep(50); // both datagrams queued
        batch.Receive(receiving, new SocketAddress(AddressFamily.InterNetwork), (_, datagram) => lengths.Add(datagram.Length), out int oversized);

        Assert.Equal([1_500], lengths);
        Assert.Equal(1, oversized);
    }

    [Fact]
    public void DatagramsGroJoinedAreCutBackIntoTheDatagramsTheySentAsWere()
    {
        // A GSO send of 20 datagrams (19 of 1,200 octets and a shorter last one) reaches a socket
        // with UDP GRO as one or a few joined messages; each datagram must come out as it was sent.
        Assert.True(BatchReceiver.IsSupported, "the batched receive path needs Linux on x86-64 or arm64");
        using var receiving = Bound();
        using var sending = Bound();
        Assert.True(BatchReceiver.TryEnableCoalescing(receiving), "UDP_GRO needs Linux 5.0");
        SendGsoBurst(sending, receiving, fill: 0);
        using var batch = new BatchReceiver(1_500, coalescing: true);
        List<byte[]> received = ReceiveAll(batch, receiving);
        AssertBurst(received, fill: 0);
        Assert.True(batch.CoalescedDatagrams > 0, "no message held more than one datagram");
    }

    [Fact]
    public void TheOverflowAreaIsGivenBackASecondAfterTheLastBurstAndServesTheNextOne()
    {
        Assert.True(BatchReceiver.IsSupported, "the batched receive path needs Linux on x86-64 or arm64");
        using var receiving = Bound();
        using var sending = Bound();
        Assert.True(BatchReceiver.TryEnableCoalescing(receiving), "UDP_GRO needs Linux 5.0");
        using var batch = new BatchReceiver(1_500, coalescing: true);
        Assert.Null(batch.OverflowReleaseDue); // nothing written there yet

        SendGsoBurst(sending, receiving, fill: 1);
        AssertBurst(ReceiveAll(batch, receiving), fill: 1);
        long due = batch.OverflowReleaseDue ?? throw new Xunit.Sdk.XunitException("a joined burst did not reach the overflow area");

        batch.ReleaseIdleOverflow(due - 1); // not yet
        Assert.Equal(0, batch.OverflowReleases);
        batch.ReleaseIdleOverflow(due);
        Assert.Equal(1, batch.OverflowReleases);
        Assert.Null(batch.OverflowReleaseDue);

        // The pages come back on the next burst, which arrives intact.
        SendGsoBurst(sending, receiving, fill: 2);
        AssertBurst(ReceiveAll(batch, receiving), fill: 2);
    }

    [Fact]
    public void AReturnedReceiverServesTheNextHostOfItsShapeAndGivesBackAnyLargeOverflow()
    {
        Assert.True(BatchReceiver.IsSupported, "the batched receive path needs Linux on x86-64 or arm64");
        using var receiving = Bound();
        using var sending = Bound();
        Assert.True(BatchReceiver.TryEnableCoalescing(receiving), "UDP_GRO needs Linux 5.0");
        const int UniqueSlot = 1_501; // no host uses this shape, so no other test takes it from the pool

        // One burst (a handshake's flight, say) writes a few overflow pages: kept with the receiver.
        BatchReceiver first = BatchReceiver.Rent(UniqueSlot, coalescing: true);
        SendGsoBurst(sending, receiving, fill: 1);
        AssertBurst(ReceiveAll(first, receiving), fill: 1);
        Assert.InRange(first.OverflowPagesWritten, 1, BatchReceiver.KeptOverflowPages);
        first.Return();
        Assert.Equal(0, first.OverflowReleases);

        BatchReceiver second = BatchReceiver.Rent(UniqueSlot, coalescing: true);
        Assert.Same(first, second);

        // Four bursts read at once (a download's) write more: given back when the host is done.
        for (byte fill = 2; fill < 6; fill++)
        {
            SendGsoBurst(sending, receiving, fill);
        }

        List<byte[]> received = ReceiveAll(second, receiving);
        for (int burst = 0; burst < 4; burst++)
        {
            AssertBurst(received.GetRange(burst * 20, 20), fill: (byte)(2 + burst));
        }

        Assert.True(second.OverflowPagesWritten > BatchReceiver.KeptOverflowPages, $"{second.OverflowPagesWritten} pages written");
        second.Return();
        Assert.Equal(1, second.OverflowReleases);
        Assert.Equal(0, second.OverflowPagesWritten);

        using BatchReceiver third = BatchReceiver.Rent(UniqueSlot, coalescing: true);
        Assert.Same(first, third);
        SendGsoBurst(sending, receiving, fill: 7);
        AssertBurst(ReceiveAll(third, receiving), fill: 7); // the pages come back on the next burst
    }

    [Fact]
    public void WithGroADatagramLargerThanASlotIsStillDroppedAndCounted()
    {
        using var receiving = Bound();
        using var sender = Bound();
        Assert.True(BatchReceiver.TryEnableCoalescing(receiving));
        sender.SendTo(new byte[3_000], receiving.LocalEndPoint!); // one datagram, not joined: over the 1,500 advertised
        sender.SendTo(new byte[1_500], receiving.LocalEndPoint!);
        using var batch = new BatchReceiver(1_500, coalescing: true);
        var lengths = new List<int>();

        SpinWait.SpinUntil(() => receiving.Available > 0, 2_000);
        Thread.Sleep(50);
        batch.Receive(receiving, new SocketAddress(AddressFamily.InterNetwork), (_, datagram) => lengths.Add(datagram.Length), out int oversized);

        Assert.Equal([1_500], lengths);
        Assert.Equal(1, oversized);
    }

    [Fact]
    public async Task WithMallardQuicPortableIoAConnectionReadsOneDatagramAtATimeAndStillWorks()
    {
        // The portable path (FIONREAD + recvfrom) is what other systems use; on Linux it is chosen
        // by this variable. Hosts made meanwhile by other tests may take it too; both paths are correct.
        Environment.SetEnvironmentVariable("MALLARD_QUIC_PORTABLE_IO", "1");
        try
        {
            Assert.False(BatchReceiver.IsSupported);
            await using QuicListener listener = await QuicListener.ListenAsync(new QuicListenerOptions
            {
                ListenEndPoint = new IPEndPoint(IPAddress.Loopback, 0),
                ApplicationProtocols = ["hq-interop"],
                ConnectionOptions = new QuicConnectionOptions { EnableDatagrams = true },
            });
            await using QuicConnection client = await QuicConnection.ConnectAsync(new QuicClientConnectionOptions
            {
                RemoteEndPoint = listener.LocalEndPoint,
                ApplicationProtocols = ["hq-interop"],
                SkipCertificateValidation = true,
                EnableDatagrams = true,
            });
            await using QuicConnection server = await listener.AcceptConnectionAsync();
            for (int i = 0; i < 64; i++)
            {
                client.TrySendDatagram(BitConverter.GetBytes(i));
            }

            var received = new HashSet<int>();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            while (received.Count < 64)
            {
                received.Add(BitConverter.ToInt32(await server.ReadDatagramAsync(timeout.Token)));
            }
        }
        finally
        {
            Environment.SetEnvironmentVariable("MALLARD_QUIC_PORTABLE_IO", null);
        }
    }

    /// <summary>A GSO send of 20 datagrams, 19 of 1,200 octets and a last one of 700, each filled with <paramref name="fill"/> plus its index.</summary>
    private static void SendGsoBurst(Socket sending, Socket receiving, byte fill)
    {
        using var sender = new BatchSender(20, 1_500);
        var destination = receiving.LocalEndPoint!.Serialize();
        for (int i = 0; i < 20; i++)
        {
            int length = i == 19 ? 700 : 1_200;
            sender.Slot(i)[..length].Fill((byte)(fill + i));
            sender.Set(i, length, destination);
        }

        sender.Flush(sending, 20);
        Assert.True(sender.Segmented > 0, "the kernel refused GSO");
    }

    private static List<byte[]> ReceiveAll(BatchReceiver batch, Socket receiving)
    {
        var received = new List<byte[]>();
        SpinWait.SpinUntil(() => receiving.Available > 0, 2_000);
        Thread.Sleep(20);
        while (batch.Receive(receiving, new SocketAddress(AddressFamily.InterNetwork), (_, datagram) => received.Add(datagram.ToArray()), out _) > 0)
        {
        }

        return received;
    }

    private static void AssertBurst(List<byte[]> received, byte fill)
    {
        Assert.Equal(20, received.Count);
        for (int i = 0; i < 20; i++)
        {
            Assert.Equal(i == 19 ? 700 : 1_200, received[i].Length);
            Assert.All(received[i], octet => Assert.Equal((byte)(fill + i), octet));
        }
    }

    private static Socket Bound()
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return socket;
    }
}
