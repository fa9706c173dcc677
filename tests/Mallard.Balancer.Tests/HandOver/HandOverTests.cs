using System.Net;
using System.Net.Sockets;
using System.Text;
using Mallard.Balancer.Forwarding;
using Mallard.Balancer.Configuration;
using Mallard.Balancer.HandOver;
using Mallard.Balancer.Tests.TestSupport;
using Mallard.QuicLb;

namespace Mallard.Balancer.Tests.HandOver;

/// <summary>
/// Zero-loss hand-over between two balancers (Proxy:HandOverSocket), here both in this process:
/// the descriptors pass through the kernel exactly as between processes. A steady stream of
/// numbered datagrams runs across the hand-over and every one must come back.
/// </summary>
public sealed class HandOverTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("mallard-handover-").FullName;

    [Fact]
    public async Task ASuccessorTakesOverEveryFlowAndNoDatagramIsLost()
    {
        using var backend = new UdpTestBackend("A");
        BalancerSettings settings = Settings(backend);
        LoadBalancer first = await RunningBalancer.StartAsync(settings);
        LoadBalancer? second = null;
        var clients = new List<TestClient>();
        try
        {
            IPEndPoint listen = first.ListenEndpoints[0];
            for (int i = 0; i < 20; i++)
            {
                var client = new TestClient(listen);
                clients.Add(client);
                Assert.Equal("A", client.Exchange(Tagged(settings, $"hello {i}")));
            }

            Dictionary<int, IPEndPoint> portsBefore = UpstreamOf(backend);
            using var stream = new NumberedStream(listen, count: 6000, n => Tagged(settings, $"n {n}"));
            Task streaming = stream.RunAsync();
            await Task.Delay(200);

            second = await RunningBalancer.StartAsync(settings);
            Assert.Equal(Environment.ProcessId, await first.HandedOver.WaitAsync(TimeSpan.FromSeconds(10)));
            int sentAtHandOver = stream.Sent;
            await first.DisposeAsync();
            first = null!;
            await streaming;

            Assert.Equal(listen, second.ListenEndpoints[0]);
            Assert.InRange(sentAtHandOver, 1, 5999); // the stream ran across the hand-over
            Assert.Empty(stream.Missing());
            Assert.Equal(21, second.ProxyCounters.FlowsTakenOver);
            Assert.Equal(21, second.ProxyCounters.LiveFlows); // the rehearsal before the hand-over counted nothing here
            Assert.Equal(0, second.ProxyCounters.FlowsOpened);

            // Each client still reaches the backend from the port it had: the backend saw no change.
            for (int i = 0; i < clients.Count; i++)
            {
                Assert.Equal("A", clients[i].Exchange(Tagged(settings, $"again {i}")));
            }

            Dictionary<int, IPEndPoint> portsAfter = UpstreamOf(backend);
            Assert.All(portsBefore, before => Assert.Equal(before.Value, portsAfter[before.Key]));
            Assert.Equal(0, second.ProxyCounters.FlowsOpened);
        }
        finally
        {
            clients.ForEach(c => c.Dispose());
            if (first is not null)
            {
                await first.DisposeAsync();
            }

            if (second is not null)
            {
                await second.DisposeAsync();
            }
        }

        // The successor kept the flow journal: its flows are on record for a restart after a crash.
        using FlowJournal journal = FlowJournal.Open(Path.Combine(_folder, "flows"), settings.Proxy.MaxFlows, out IReadOnlyList<FlowJournal.JournalRecord> recorded);
        Assert.Equal(21, recorded.Count);
    }

    [Fact]
    public async Task ASuccessorThatGoesAwayLeavesTheRunningBalancerForwarding()
    {
        using var backend = new UdpTestBackend("A");
        BalancerSettings settings = Settings(backend);
        await using LoadBalancer running = await RunningBalancer.StartAsync(settings);
        using var client = new TestClient(running.ListenEndpoints[0]);
        Assert.Equal("A", client.Exchange(Tagged(settings, "one")));

        // A successor that takes the sockets and then dies before it says Ready.
        using (Socket socket = DescriptorChannel.OpenSocket())
        {
            socket.Connect(new UnixDomainSocketEndPoint(settings.Proxy.HandOverSocket!));
            using var channel = new DescriptorChannel(socket, TimeSpan.FromSeconds(5));
            byte[] buffer = new byte[DescriptorChannel.MaxMessageSize];
            channel.Send(buffer.AsSpan(0, HandOverProtocol.WriteRequest(buffer, 4242)), []);
            var descriptors = new List<int>();
            int items = 0;
            while (true)
            {
                int length = channel.Receive(buffer, descriptors);
                if ((HandOverProtocol.Kind)buffer[0] == HandOverProtocol.Kind.End)
                {
                    Assert.Equal(items, HandOverProtocol.ReadEnd(buffer.AsSpan(0, length)).Items);
                    break;
                }

                items += HandOverProtocol.ReadSockets(buffer.AsSpan(0, length)).Count;
            }

            Assert.Equal(items, descriptors.Count);
            Assert.Equal(3, items); // two listening sockets (Workers: 2) and one flow
            descriptors.ForEach(fd => Mallard.Linux.LinuxNative.close(fd));
        }

        Assert.True(await RunningBalancer.EventuallyAsync(() => client.Exchange(Tagged(settings, "two"), 200) == "A"));
        Assert.False(running.HandedOver.IsCompleted);
    }

    [Fact]
    public async Task ARequestOfAnotherProtocolVersionIsRefusedWithTheReason()
    {
        using var backend = new UdpTestBackend("A");
        BalancerSettings settings = Settings(backend);
        await using LoadBalancer running = await RunningBalancer.StartAsync(settings);
        using Socket socket = DescriptorChannel.OpenSocket();
        socket.Connect(new UnixDomainSocketEndPoint(settings.Proxy.HandOverSocket!));
        using var channel = new DescriptorChannel(socket, TimeSpan.FromSeconds(5));
        byte[] buffer = new byte[DescriptorChannel.MaxMessageSize];
        int request = HandOverProtocol.WriteRequest(buffer, 4242);
        buffer[5] = 99; // version 99
        channel.Send(buffer.AsSpan(0, request), []);
        int length = channel.Receive(buffer, []);
        Assert.Equal(HandOverProtocol.Kind.Refused, (HandOverProtocol.Kind)buffer[0]);
        Assert.Contains("version 99", HandOverProtocol.ReadText(buffer.AsSpan(0, length)), StringComparison.Ordinal);
        using var client = new TestClient(running.ListenEndpoints[0]);
        Assert.Equal("A", client.Exchange(Tagged(settings, "still")));
    }

    [Fact]
    public async Task TheSocketIsTheBalancerUsersAloneAndGarbageOnItChangesNothing()
    {
        using var backend = new UdpTestBackend("A");
        BalancerSettings settings = Settings(backend);
        await using LoadBalancer running = await RunningBalancer.StartAsync(settings);
        if (OperatingSystem.IsLinux()) // hand-over exists on Linux alone
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(settings.Proxy.HandOverSocket!));
        }

        using (Socket socket = DescriptorChannel.OpenSocket())
        {
            socket.Connect(new UnixDomainSocketEndPoint(settings.Proxy.HandOverSocket!));
            using var channel = new DescriptorChannel(socket, TimeSpan.FromSeconds(5));
            channel.Send("GET / HTTP/1.1\r\n\r\n"u8, []);
            byte[] buffer = new byte[DescriptorChannel.MaxMessageSize];
            int length = channel.Receive(buffer, []);
            Assert.Equal(HandOverProtocol.Kind.Refused, (HandOverProtocol.Kind)buffer[0]);
            Assert.Equal("not a mallard lb hand-over request", HandOverProtocol.ReadText(buffer.AsSpan(0, length)));
        }

        using var client = new TestClient(running.ListenEndpoints[0]);
        Assert.Equal("A", client.Exchange(Tagged(settings, "unmoved")));
        Assert.False(running.HandedOver.IsCompleted);
    }

    [Fact]
    public async Task WithoutARunningBalancerAStaleSocketFileIsReplaced()
    {
        using var backend = new UdpTestBackend("A");
        BalancerSettings settings = Settings(backend);
        using (Socket stale = DescriptorChannel.OpenSocket())
        {
            stale.Bind(new UnixDomainSocketEndPoint(settings.Proxy.HandOverSocket!)); // bound, never listening: as after a crash
        }

        await using LoadBalancer running = await RunningBalancer.StartAsync(settings);
        using var client = new TestClient(running.ListenEndpoints[0]);
        Assert.Equal("A", client.Exchange(Tagged(settings, "fresh")));
        await using LoadBalancer successor = await RunningBalancer.StartAsync(settings);
        Assert.Equal(Environment.ProcessId, await running.HandedOver.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private BalancerSettings Settings(UdpTestBackend backend) =>
        TestSettings.Loopback([(backend.Endpoint, "41414141")],
            ("Health:Enabled", "false"),
            ("Proxy:HandOverSocket", Path.Combine(_folder, "handover")),
            ("Proxy:FlowJournal", Path.Combine(_folder, "flows")));

    // A short-header packet whose connection ID names backend A, carrying a tag after it.
    private static byte[] Tagged(BalancerSettings settings, string tag)
    {
        byte[] packet = Packets.Short(new ConnectionIdEncoder(settings.Configs[0], "AAAA"u8).Issue(), size: 64);
        packet[TagOffset - 1] = (byte)tag.Length;
        Encoding.ASCII.GetBytes(tag, packet.AsSpan(TagOffset));
        return packet;
    }

    private const int TagOffset = 32;

    private static string TagOf(ReadOnlySpan<byte> packet) =>
        packet.Length > TagOffset && packet[TagOffset - 1] <= packet.Length - TagOffset ? Encoding.ASCII.GetString(packet.Slice(TagOffset, packet[TagOffset - 1])) : string.Empty;

    // Which upstream address the backend saw each client's tagged packets from, by the number in the tag.
    private static Dictionary<int, IPEndPoint> UpstreamOf(UdpTestBackend backend)
    {
        var ports = new Dictionary<int, IPEndPoint>();
        foreach ((IPEndPoint from, byte[] datagram) in backend.Received)
        {
            string[] words = TagOf(datagram).Split(' ');
            if (words.Length == 2 && words[0] is "hello" or "again" && int.TryParse(words[1], out int client))
            {
                ports[client] = from;
            }
        }

        return ports;
    }

    /// <summary>A client that sends numbered datagrams at a steady pace and records which echoes came back.</summary>
    private sealed class NumberedStream(IPEndPoint balancer, int count, Func<int, byte[]> datagram) : IDisposable
    {
        private readonly Socket _socket = new(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        private readonly bool[] _echoed = new bool[count];
        private int _sent;

        public int Sent => Volatile.Read(ref _sent);

        public async Task RunAsync()
        {
            _socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            _socket.ReceiveBufferSize = 4 << 20;
            Task receiving = Task.Run(Receive);
            for (int i = 0; i < count; i++)
            {
                _socket.SendTo(datagram(i), balancer);
                Volatile.Write(ref _sent, i + 1);
                if (i % 10 == 9)
                {
                    await Task.Delay(1);
                }
            }

            // Echoes still on their way arrive within the deadline; the receive loop then ends.
            await Task.WhenAny(receiving, Task.Delay(5000));
            _socket.Close();
        }

        public IReadOnlyList<int> Missing() => [.. Enumerable.Range(0, count).Where(i => !Volatile.Read(ref _echoed[i]))];

        public void Dispose() => _socket.Dispose();

        private void Receive()
        {
            byte[] buffer = new byte[256];
            int seen = 0;
            while (seen < count)
            {
                int length;
                try
                {
                    length = _socket.Receive(buffer);
                }
                catch (Exception error) when (error is SocketException or ObjectDisposedException)
                {
                    return;
                }

                string tag = length > 2 ? TagOf(buffer.AsSpan(2, length - 2)) : string.Empty; // after the backend's "A:"
                if (tag.StartsWith("n ", StringComparison.Ordinal) && int.TryParse(tag.AsSpan(2), out int number) && number < count && !_echoed[number])
                {
                    Volatile.Write(ref _echoed[number], true);
                    seen++;
                }
            }
        }
    }
}
