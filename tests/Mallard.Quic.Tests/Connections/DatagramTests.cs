using Mallard.Quic.Connections;
using Mallard.Quic.Tests.TestSupport;
using Mallard.Quic.Transport;

namespace Mallard.Quic.Tests.Connections;

/// <summary>RFC 9221 DATAGRAM frames over the virtual network: negotiation, limits, loss, queues and sharing with streams.</summary>
public class DatagramTests
{
    [Fact]
    public void DatagramsArriveInOrderAndTheirAcknowledgementsAreReported()
    {
        using VirtualNetwork network = Negotiated();
        Connection client = Established(network);
        Connection server = network.ServerConnection!;

        var sent = new List<ulong>();
        for (int i = 0; i < 50; i++)
        {
            Assert.Equal(DatagramQueueResult.Queued, client.QueueDatagram(BitConverter.GetBytes(i), track: true, out ulong id));
            sent.Add(id);
        }

        network.Flush();
        Assert.True(network.RunUntil(() => server.DatagramsWaiting == 50 && client.Datagrams.Acknowledged == 50, 2_000_000));
        for (int i = 0; i < 50; i++)
        {
            Assert.True(server.TryReadDatagram(out byte[] payload));
            Assert.Equal(i, BitConverter.ToInt32(payload));
        }

        var acknowledged = new List<ulong>();
        while (client.TryTakeDatagramOutcome(out ulong id, out QuicDatagramDelivery delivery))
        {
            Assert.Equal(QuicDatagramDelivery.Acknowledged, delivery);
            acknowledged.Add(id);
        }

        Assert.Equal(sent, acknowledged.Order());
        Assert.Equal(50, client.Datagrams.Sent);
        Assert.Equal(50, server.Datagrams.Received);
    }

    [Fact]
    public void TheLargestAllowedDatagramFitsOneOctetMoreIsRefused()
    {
        using VirtualNetwork network = Negotiated();
        Connection client = Established(network);
        int max = client.MaxDatagramPayload;
        Assert.InRange(max, 1_000, 1_452); // one packet of the path's MTU (1200 up to the 1452 ceiling) less headers

        Assert.Equal(DatagramQueueResult.TooLarge, client.QueueDatagram(new byte[max + 1], track: false, out _));
        Assert.Equal(DatagramQueueResult.Queued, client.QueueDatagram(new byte[max], track: false, out _));
        network.Flush();
        Assert.True(network.RunUntil(() => network.ServerConnection!.DatagramsWaiting == 1, 1_000_000));
        Assert.True(network.ServerConnection!.TryReadDatagram(out byte[] payload));
        Assert.Equal(max, payload.Length);
    }

    [Fact]
    public void ThePeersSmallerLimitBoundsTheDatagramSize()
    {
        TransportParameters small = VirtualNetwork.Parameters();
        small.MaxDatagramFrameSize = 100;
        using VirtualNetwork network = Negotiated(server: small);
        Connection client = Established(network);

        // 100 octets of frame: the type, a two-octet length (a one-octet varint ends at 63), and 97 of payload.
        Assert.Equal(97, client.MaxDatagramPayload);
        Assert.Equal(DatagramQueueResult.TooLarge, client.QueueDatagram(new byte[98], track: false, out _));
    }

    [Fact]
    public void WithoutNegotiationNothingIsQueued()
    {
        using var network = new VirtualNetwork();
        Connection client = Established(network);
        Assert.Equal(0, client.MaxDatagramPayload);
        Assert.Equal(DatagramQueueResult.NotNegotiated, client.QueueDatagram([1, 2, 3], track: false, out _));
    }

    [Fact]
    public void ADatagramTheReceiverNeverAdvertisedIsAProtocolViolation()
    {
        using var network = new VirtualNetwork();
        Connection client = Established(network);

        // The client pretends the server advertised DATAGRAM support.
        client.PeerParameters!.MaxDatagramFrameSize = 65_535;
        Assert.Equal(DatagramQueueResult.Queued, client.QueueDatagram([1, 2, 3], track: false, out _));
        network.Flush();
        Assert.True(network.RunUntil(() => client.State == ConnectionState.Closed || client.State == ConnectionState.Draining, 2_000_000));
        Assert.Equal((ulong)TransportErrorCode.ProtocolViolation, client.Error!.Code);
        Assert.Contains("not negotiated", network.ServerConnection!.Error!.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void ADatagramLargerThanAdvertisedIsAProtocolViolation()
    {
        TransportParameters small = VirtualNetwork.Parameters();
        small.MaxDatagramFrameSize = 100;
        using VirtualNetwork network = Negotiated(server: small);
        Connection client = Established(network);

        client.PeerParameters!.MaxDatagramFrameSize = 65_535;
        Assert.Equal(DatagramQueueResult.Queued, client.QueueDatagram(new byte[98], track: false, out _));
        network.Flush();
        Assert.True(network.RunUntil(() => client.State == ConnectionState.Closed || client.State == ConnectionState.Draining, 2_000_000));
        Assert.Equal((ulong)TransportErrorCode.ProtocolViolation, client.Error!.Code);
        Assert.Contains("exceeds max_datagram_frame_size 100", network.ServerConnection!.Error!.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void LostDatagramsAreReportedAndNeverRetransmitted()
    {
        using VirtualNetwork network = Negotiated(seed: 9);
        Connection client = Established(network);
        Connection server = network.ServerConnection!;
        network.LossRate = 0.2;

        int outcomes = 0;
        int lost = 0;
        for (int i = 0; i < 300; i++)
        {
            client.QueueDatagram(BitConverter.GetBytes(i), track: true, out _);
            network.Flush();
            network.RunUntil(() => false, 5_000);
            while (client.TryTakeDatagramOutcome(out _, out QuicDatagramDelivery delivery))
            {
                outcomes++;
                lost += delivery == QuicDatagramDelivery.Lost ? 1 : 0;
            }
        }

        network.LossRate = 0;
        network.RunUntil(() => false, 3_000_000);
        while (client.TryTakeDatagramOutcome(out _, out QuicDatagramDelivery delivery))
        {
            outcomes++;
            lost += delivery == QuicDatagramDelivery.Lost ? 1 : 0;
        }

        // Every datagram gets exactly one outcome; about a fifth are lost and none comes twice.
        Assert.Equal(300, outcomes);
        Assert.InRange(lost, 30, 90);
        var seen = new HashSet<int>();
        while (server.TryReadDatagram(out byte[] payload))
        {
            Assert.True(seen.Add(BitConverter.ToInt32(payload)), "a datagram arrived twice");
        }

        Assert.InRange(seen.Count, 300 - lost, 300); // an ACK can be lost after its datagram arrived
        Assert.Equal(300, client.Datagrams.Acknowledged + client.Datagrams.Lost);
    }

    [Fact]
    public void FullQueuesRefuseOnSendAndDropTheOldestOnReceive()
    {
        ConnectionOptions clientOptions = VirtualNetwork.DefaultClientOptions() with { LocalParameters = WithDatagrams(), DatagramSendQueueCapacity = 4 };
        ConnectionOptions serverOptions = VirtualNetwork.ServerOptions() with { LocalParameters = WithDatagrams(), DatagramReceiveQueueCapacity = 3 };
        using var network = new VirtualNetwork(server: serverOptions, client: clientOptions);
        Connection client = Established(network);
        Connection server = network.ServerConnection!;

        var results = Enumerable.Range(0, 6).Select(i => client.QueueDatagram([(byte)i], track: false, out _)).ToList();
        Assert.Equal(4, results.Count(r => r == DatagramQueueResult.Queued));
        Assert.Equal(2, results.Count(r => r == DatagramQueueResult.QueueFull));
        Assert.Equal(2, client.Datagrams.DroppedOnSend);

        network.Flush();
        Assert.True(network.RunUntil(() => server.Datagrams.Received == 4, 1_000_000));
        Assert.Equal(1, server.Datagrams.DroppedOnReceive);
        var read = new List<byte>();
        while (server.TryReadDatagram(out byte[] payload))
        {
            read.Add(payload[0]);
        }

        Assert.Equal([1, 2, 3], read);
    }

    [Fact]
    public void AFloodOfDatagramsDoesNotStarveAStreamNorTheStreamTheDatagrams()
    {
        using VirtualNetwork network = Negotiated(seed: 4);
        int datagramsAtStart = 0;
        long flooded = 0;
        Connection? server = null;

        // The server answers a 300 kB request while its datagram queue is kept full the whole time.
        byte[] response = ConnectionTests.Transfer(network, 300_000, onStep: () =>
        {
            server = network.ServerConnection;
            if (server?.HandshakeComplete != true)
            {
                return;
            }

            datagramsAtStart = datagramsAtStart == 0 ? (int)server.Datagrams.Sent + 1 : datagramsAtStart;
            while (server.QueueDatagram(new byte[server.MaxDatagramPayload], track: false, out _) == DatagramQueueResult.Queued)
            {
                flooded++;
            }
        });

        Assert.Equal(300_000, response.Length);

        // Datagrams took a real share of the packets: at least a third of the stream's octets.
        long datagramOctets = (server!.Datagrams.Sent - datagramsAtStart + 1) * server.MaxDatagramPayload;
        Assert.True(datagramOctets > 100_000, $"only {datagramOctets} octets of datagrams went out beside 300 kB of stream data");
        Assert.True(flooded > 256);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(0.03)]
    public void CommandsOnAStreamArriveInOrderAndAreNotHeldBackBehindATelemetryFlood(double loss)
    {
        // The seed's use case: telemetry as datagrams and control commands on a reliable stream,
        // in one connection. The client keeps its datagram queue full (more than many round trips
        // of data) and sends a 16-octet command every 10 ms.
        using VirtualNetwork network = Negotiated(seed: 21);
        network.LossRate = loss;

        // A 100 Mbit/s path with a 20 ms queue: without a bottleneck the flood's window (and the
        // simulation) would grow without end, since nothing on a lossless infinite path stops it.
        network.BottleneckBytesPerSecond = 12_500_000;
        network.BottleneckQueueBytes = 250_000;
        network.BottleneckTowardsServer = true;
        Connection client = Established(network);
        Connection server = network.ServerConnection!;
        Assert.True(client.TryOpenStream(true, out ulong commands));

        const int Count = 100;
        var sentAt = new long[Count];
        var latencies = new List<long>();
        var received = new List<byte>();
        var buffer = new byte[4096];
        int sent = 0;
        long nextCommand = network.Now;
        bool done = network.RunUntil(() =>
        {
            // Full-size datagrams: a packet that starts with one has no room left for anything else.
            while (client.QueueDatagram(new byte[client.MaxDatagramPayload], track: false, out _) == DatagramQueueResult.Queued)
            {
            }

            if (sent < Count && network.Now >= nextCommand)
            {
                sentAt[sent] = network.Now;
                byte[] command = new byte[16];
                BitConverter.TryWriteBytes(command, sent++);
                client.WriteStream(commands, command, fin: false);
                nextCommand = network.Now + 10_000;
            }

            server.TryAcceptStream(out _);
            int read;
            while ((read = server.ReadStream(network.Now, commands, buffer, out _)) > 0)
            {
                received.AddRange(buffer.AsSpan(0, read));
                while (received.Count / 16 > latencies.Count)
                {
                    latencies.Add(network.Now - sentAt[latencies.Count]);
                }
            }

            while (server.TryReadDatagram(out _))
            {
            }

            network.Flush();
            return latencies.Count == Count;
        }, 60_000_000);

        Assert.True(done, $"{latencies.Count} of {Count} commands arrived");
        for (int i = 0; i < Count; i++)
        {
            Assert.Equal(i, BitConverter.ToInt32(received.ToArray(), i * 16)); // in order, none missing
        }

        // Loss shrinks the congestion window that the telemetry shares, so fewer datagrams get through.
        Assert.True(server.Datagrams.Received > (loss == 0 ? 1_000 : 200), $"only {server.Datagrams.Received} telemetry datagrams arrived");
        if (loss == 0)
        {
            // One-way delay is 10 ms. Stuck behind the 256 queued datagrams a command would wait
            // for several round trips; sharing the packets, it waits for at most one or two.
            latencies.Sort();
            Assert.True(latencies[^1] <= 60_000, $"the slowest command took {latencies[^1] / 1000.0} ms");
        }
    }

    /// <summary>The virtual network's parameters with DATAGRAM frames accepted.</summary>
    internal static TransportParameters WithDatagrams()
    {
        TransportParameters parameters = VirtualNetwork.Parameters();
        parameters.MaxDatagramFrameSize = 65_535;
        return parameters;
    }

    /// <summary>A virtual network whose two sides negotiate DATAGRAM frames; <paramref name="configure"/> adjusts both sides' options.</summary>
    [Fact]
    public void ADatagramSentLaterCarriesNoAckBeforeItIsDueAnImmediateAnswerAndStreamDataDo()
    {
        using VirtualNetwork network = Negotiated();
        Connection client = Established(network);
        Connection server = network.ServerConnection!;
        network.RunUntil(() => false, 2_000_000); // the handshake's stragglers (tokens, connection IDs, MTU probes) settle

        // One ack-eliciting packet from the server: the client's acknowledgement is not yet due (RFC 9000 section 13.2.1).
        Assert.Equal(DatagramQueueResult.Queued, server.QueueDatagram("sample"u8, track: true, out ulong first));
        network.Flush();
        Assert.True(network.RunUntil(() => client.DatagramsWaiting == 1, 1_000_000));

        // Five milliseconds later the client starts an exchange of its own: the datagram goes without the ACK.
        network.RunUntil(() => false, 5_000);
        Assert.Equal(DatagramQueueResult.Queued, client.QueueDatagram("quack"u8, track: false, out _));
        network.Flush();
        Assert.True(network.RunUntil(() => server.DatagramsWaiting == 1, 1_000_000));
        Assert.False(server.TryTakeDatagramOutcome(out _, out _));

        // The ACK follows when due, after max_ack_delay (25 ms) in a packet of its own.
        long arrived = network.Now;
        Assert.True(network.RunUntil(() => server.TryTakeDatagramOutcome(out ulong id, out QuicDatagramDelivery delivery) && id == first && delivery == QuicDatagramDelivery.Acknowledged, 1_000_000));
        Assert.InRange(network.Now - arrived, 10_000, 30_000);

        // An answer sent at once carries the pending ACK: the server learns of the delivery with the answer.
        Assert.Equal(DatagramQueueResult.Queued, server.QueueDatagram("quack"u8, track: true, out ulong request));
        network.Flush();
        Assert.True(network.RunUntil(() => client.DatagramsWaiting == 2, 1_000_000));
        Assert.Equal(DatagramQueueResult.Queued, client.QueueDatagram("quack-ack"u8, track: false, out _));
        network.Flush();
        Assert.True(network.RunUntil(() => server.DatagramsWaiting == 2, 1_000_000));
        Assert.True(server.TryTakeDatagramOutcome(out ulong answered, out QuicDatagramDelivery outcome));
        Assert.Equal((request, QuicDatagramDelivery.Acknowledged), (answered, outcome));

        // Stream data, later, still carries a pending ACK.
        Assert.Equal(DatagramQueueResult.Queued, server.QueueDatagram("sample"u8, track: true, out ulong third));
        network.Flush();
        Assert.True(network.RunUntil(() => client.DatagramsWaiting == 3, 1_000_000));
        network.RunUntil(() => false, 5_000);
        Assert.True(client.TryOpenStream(bidirectional: false, out ulong stream));
        client.WriteStream(stream, "data"u8, fin: true);
        network.Flush();
        Assert.True(network.RunUntil(() => server.TryAcceptStream(out _), 1_000_000));
        Assert.True(server.TryTakeDatagramOutcome(out ulong acknowledged, out outcome));
        Assert.Equal((third, QuicDatagramDelivery.Acknowledged), (acknowledged, outcome));
    }

    [Fact]
    public void AcknowledgementsStillFlowWhileDatagramsGoWithoutThem()
    {
        using VirtualNetwork network = Negotiated();
        Connection client = Established(network);
        Connection server = network.ServerConnection!;
        network.RunUntil(() => false, 2_000_000);

        var samples = new List<ulong>();
        for (int i = 1; i <= 2; i++)
        {
            Assert.Equal(DatagramQueueResult.Queued, server.QueueDatagram("sample"u8, track: true, out ulong id));
            samples.Add(id);
            network.Flush();
            Assert.True(network.RunUntil(() => client.DatagramsWaiting == i, 1_000_000));
            network.RunUntil(() => false, 5_000);
            Assert.Equal(DatagramQueueResult.Queued, client.QueueDatagram("sample"u8, track: false, out _));
            network.Flush();
            Assert.True(network.RunUntil(() => server.DatagramsWaiting == i, 1_000_000));
        }

        // Every sample was acknowledged (when due: at the second packet or after max_ack_delay), none left waiting.
        var outcomes = new List<ulong>();
        while (server.TryTakeDatagramOutcome(out ulong id, out QuicDatagramDelivery delivery))
        {
            Assert.Equal(QuicDatagramDelivery.Acknowledged, delivery);
            outcomes.Add(id);
        }

        Assert.Equal(samples, outcomes.Order());
    }

    internal static VirtualNetwork Negotiated(int seed = 1, TransportParameters? server = null, Func<ConnectionOptions, ConnectionOptions>? configure = null)
    {
        configure ??= options => options;
        return new(
            seed,
            server: configure(VirtualNetwork.ServerOptions() with { LocalParameters = server ?? WithDatagrams() }),
            client: configure(VirtualNetwork.DefaultClientOptions() with { LocalParameters = WithDatagrams() }));
    }

    internal static Connection Established(VirtualNetwork network)
    {
        Connection client = network.Connect();
        Assert.True(network.RunUntil(() => client.HandshakeConfirmed && network.ServerConnection?.HandshakeConfirmed == true, 5_000_000));
        return client;
    }
}
