using Mallard.QuicLb;

namespace Mallard.Steering.Tests;

/// <summary>
/// The XDP program's verdicts, run in the kernel on crafted frames (<c>bpf_prog_test_run_opts</c>;
/// no interface, no namespace; root or CAP_BPF). This server has ID 41414141 under plaintext
/// config 0; a peer on the segment has 42424242; config 1 is single-pass encrypted.
/// </summary>
public sealed class SteeringObjectTests : IDisposable
{
    private const uint Pass = 2;
    private const uint Transmit = 3;

    private static readonly QuicLbConfig Plain = new(0, 4, 8);
    private static readonly QuicLbConfig Encrypted = new(1, 4, 8, Convert.FromHexString("00112233445566778899aabbccddeeff"));

    private readonly SteeringObject _program = SteeringObject.Load();

    public SteeringObjectTests()
    {
        _program.SetSettings(443, Frames.OwnMac, enabled: true);
        _program.SetConfig(Plain);
        _program.SetConfig(Encrypted);
        _program.SetServer(0, Convert.FromHexString("41414141"), default, self: true);
        _program.SetServer(0, Convert.FromHexString("42424242"), Frames.PeerMac, self: false);
        _program.AddPeer(Frames.PeerMac);
    }

    public void Dispose() => _program.Dispose();

    [Fact]
    public void APacketForThisServerPasses()
    {
        Assert.Equal(Pass, Run(Frames.Ipv4(Frames.Short(Issue(Plain, "41414141"))), out _));
        Assert.Equal(1, Count(SteeringBranch.Own));
    }

    [Fact]
    public void APacketForAPeerIsSentToItsMacAndOtherwiseUntouched()
    {
        byte[] frame = Frames.Ipv4(Frames.Short(Issue(Plain, "42424242")));
        Assert.Equal(Transmit, Run(frame, out byte[] output));
        Assert.Equal(Frames.PeerMac, output[..6]);
        Assert.Equal(Frames.OwnMac, output[6..12]);
        Assert.Equal(frame[12..], output[12..]); // the client's addresses and the payload stay
        Assert.Equal(1, Count(SteeringBranch.Steered));
    }

    [Fact]
    public void IPv6IsSteeredToo()
    {
        Assert.Equal(Transmit, Run(Frames.Ipv6(Frames.Short(Issue(Plain, "42424242"))), out byte[] output));
        Assert.Equal(Frames.PeerMac, output[..6]);
    }

    [Fact]
    public void AHandshakePacketIsSteeredAndTheClientsChoicesPass()
    {
        byte[] peer = Issue(Plain, "42424242");
        Assert.Equal(Transmit, Run(Frames.Ipv4(Frames.Long(2, peer)), out _));
        Assert.Equal(Pass, Run(Frames.Ipv4(Frames.Long(0, peer)), out _)); // Initial
        Assert.Equal(Pass, Run(Frames.Ipv4(Frames.Long(1, peer)), out _)); // 0-RTT
        Assert.Equal(Pass, Run(Frames.Ipv4(Frames.Long(3, peer)), out _)); // Retry
        Assert.Equal(Pass, Run(Frames.Ipv4(Frames.Long(2, peer, version: 0)), out _)); // Version Negotiation
        Assert.Equal(4, Count(SteeringBranch.Initial));
    }

    [Fact]
    public void WhatIsNotForTheServicePortPassesUnread()
    {
        byte[] peer = Frames.Short(Issue(Plain, "42424242"));
        Assert.Equal(Pass, Run(Frames.Ipv4(peer, port: 8443), out _));
        Assert.Equal(Pass, Run(Frames.Ipv4(peer, fragment: 0x2000), out _)); // more fragments
        Assert.Equal(Pass, Run(Frames.Ipv4(peer, fragment: 0x0010), out _)); // a later fragment
        Assert.Equal(Pass, Run(Frames.Ipv6(peer, nextHeader: 0), out _)); // hop-by-hop options first
        Assert.Equal(4, Count(SteeringBranch.NotService));
        byte[] arp = Frames.Ipv4(peer);
        arp[12] = 0x08;
        arp[13] = 0x06;
        Assert.Equal(Pass, Run(arp, out _));
        Assert.Equal(1, Count(SteeringBranch.NotIp));
    }

    [Fact]
    public void UnroutableUnknownConfigAndUnknownServerPass()
    {
        byte[] unroutable = Issue(Plain, "42424242");
        unroutable[0] |= 0xe0;
        Assert.Equal(Pass, Run(Frames.Ipv4(Frames.Short(unroutable)), out _));
        Assert.Equal(Pass, Run(Frames.Ipv4(Frames.Short(Issue(new QuicLbConfig(2, 4, 8), "42424242"))), out _));
        Assert.Equal(Pass, Run(Frames.Ipv4(Frames.Short(Issue(Plain, "43434343"))), out _));
        Assert.Equal(1, Count(SteeringBranch.Unroutable));
        Assert.Equal(1, Count(SteeringBranch.UnknownConfig));
        Assert.Equal(1, Count(SteeringBranch.UnknownServer));
    }

    [Fact]
    public void AnEncryptedIdIsSteeredOnceLearned()
    {
        byte[] connectionId = Issue(Encrypted, "42424242");
        byte[] frame = Frames.Ipv4(Frames.Short(connectionId));
        Assert.Equal(Pass, Run(frame, out _));
        Assert.Equal(1, Count(SteeringBranch.NotLearned));

        _program.Learn(connectionId, Frames.PeerMac, self: false);
        Assert.Equal(Transmit, Run(frame, out byte[] output));
        Assert.Equal(Frames.PeerMac, output[..6]);
        Assert.Equal(1, Count(SteeringBranch.SteeredLearned));
    }

    [Fact]
    public void AnEncryptedIdNotLearnedIsCopiedToUserSpaceWhole()
    {
        byte[] frame = Frames.Ipv4(Frames.Short(Issue(Encrypted, "42424242"), size: 1200));
        var copies = new List<(byte[] Frame, int Length)>();
        using var queue = new LearnQueue(_program.LearnQueueFd, (copy, length) => copies.Add((copy.ToArray(), length)));
        Assert.Equal(Pass, Run(frame, out _));
        queue.Poll(TimeSpan.Zero);
        (byte[] copied, int whole) = Assert.Single(copies);
        Assert.Equal(frame, copied);
        Assert.Equal(frame.Length, whole);
    }

    [Fact]
    public void WhenUserSpaceFallsBehindFramesPassUncopied()
    {
        // A flood of undecided IDs fills the bounded queue; the rest pass, counted, and cost
        // user space nothing.
        byte[] frame = Frames.Ipv4(Frames.Short(Issue(Encrypted, "42424242"), size: 1200));
        _program.TestRun(frame, new byte[frame.Length + 256], out _, repeat: 500, out _);
        long queued = Count(SteeringBranch.NotLearned);
        Assert.InRange(queued, 100, 128); // 256 KiB of 2 KiB records
        Assert.Equal(500 - queued, Count(SteeringBranch.LearnQueueFull));

        int drained = 0;
        using var queue = new LearnQueue(_program.LearnQueueFd, (_, _) => drained++);
        queue.Poll(TimeSpan.Zero);
        Assert.Equal(queued, drained);
    }

    [Fact]
    public void ForgettingLearnedIdsEmptiesTheMap()
    {
        byte[][] ids = [.. Enumerable.Range(0, 50).Select(_ => Issue(Encrypted, "42424242"))];
        foreach (byte[] id in ids)
        {
            _program.Learn(id, Frames.PeerMac, self: false);
        }

        Assert.Equal(Transmit, Run(Frames.Ipv4(Frames.Short(ids[7])), out _));
        Assert.Equal(50, _program.ForgetLearned());
        Assert.Equal(Pass, Run(Frames.Ipv4(Frames.Short(ids[7])), out _));
        Assert.Equal(1, Count(SteeringBranch.NotLearned));
    }

    [Fact]
    public void AFrameForAServerOnAnotherSegmentGoesWrappedInVxlan()
    {
        // 43434343 is behind a router: its VXLAN device's MAC, its underlay address, the router's MAC.
        byte[] vxlanMac = [0x02, 0, 0, 0, 0, 0x43];
        byte[] routerMac = [0x02, 0, 0, 0, 0, 0xfe];
        var encapsulation = new SteeringEncapsulation(System.Net.IPAddress.Parse("192.0.2.10"), 4242, 4789);
        _program.SetSettings(443, Frames.OwnMac, enabled: true, encapsulation, mtu: 1500);
        _program.SetServer(0, Convert.FromHexString("43434343"), vxlanMac, self: false, System.Net.IPAddress.Parse("198.51.100.20"), routerMac);
        byte[] frame = Frames.Ipv4(Frames.Short(Issue(Plain, "43434343")));

        Assert.Equal(Transmit, Run(frame, out byte[] output));
        Assert.Equal(frame.Length + 50, output.Length);
        Assert.Equal(routerMac, output[..6]);
        Assert.Equal(Frames.OwnMac, output[6..12]);
        Assert.Equal(new byte[] { 0x08, 0x00, 0x45 }, output[12..15]);
        Assert.Equal(frame.Length + 36, System.Buffers.Binary.BinaryPrimitives.ReadUInt16BigEndian(output.AsSpan(16)));
        Assert.Equal(17, output[23]);
        Assert.Equal(0xffff, OnesComplementSum(output.AsSpan(14, 20))); // the outer IPv4 header checksum verifies
        Assert.Equal(new byte[] { 192, 0, 2, 10, 198, 51, 100, 20 }, output[26..34]);
        Assert.Equal(4789, System.Buffers.Binary.BinaryPrimitives.ReadUInt16BigEndian(output.AsSpan(36)));
        Assert.Equal(new byte[] { 0x08, 0, 0, 0, 0, 0x10, 0x92, 0 }, output[42..50]); // VXLAN: I flag, VNI 4242
        Assert.Equal(vxlanMac, output[50..56]); // the inner frame, for the owner's VXLAN device
        Assert.Equal(Frames.OwnMac, output[56..62]);
        Assert.Equal(frame[12..], output[62..]);
        Assert.Equal(1, Count(SteeringBranch.Steered));

        // Not resolved yet (no next hop), or too big for the interface: passed, counted.
        _program.SetServer(0, Convert.FromHexString("43434343"), vxlanMac, self: false, System.Net.IPAddress.Parse("198.51.100.20"));
        Assert.Equal(Pass, Run(frame, out _));
        Assert.Equal(1, Count(SteeringBranch.NoRoute));
        _program.SetServer(0, Convert.FromHexString("43434343"), vxlanMac, self: false, System.Net.IPAddress.Parse("198.51.100.20"), routerMac);
        Assert.Equal(Pass, Run(Frames.Ipv4(Frames.Short(Issue(Plain, "43434343"), size: 1450)), out _));
        Assert.Equal(1, Count(SteeringBranch.TooBig));
    }

    [Fact]
    public void AFrameFromAnotherServerIsNeverSteeredAgain()
    {
        Assert.Equal(Pass, Run(Frames.Ipv4(Frames.Short(Issue(Plain, "42424242")), sourceMac: Frames.PeerMac), out _));
        Assert.Equal(1, Count(SteeringBranch.FromPeer));
    }

    [Fact]
    public void SteeringOffPassesEverything()
    {
        _program.SetSettings(443, Frames.OwnMac, enabled: false);
        Assert.Equal(Pass, Run(Frames.Ipv4(Frames.Short(Issue(Plain, "42424242"))), out _));
        Assert.Equal(0, Count(SteeringBranch.Steered));
    }

    [Fact]
    public void EveryTruncationOfASteerableFramePasses()
    {
        byte[][] frames =
        [
            Frames.Ipv4(Frames.Short(Issue(Plain, "42424242"), size: 13)),
            Frames.Ipv6(Frames.Short(Issue(Plain, "42424242"), size: 13)),
            Frames.Ipv4(Frames.Long(2, Issue(Plain, "42424242"), size: 40)),
            Frames.Ipv4(Frames.Short(Issue(Encrypted, "42424242"), size: 13)),
        ];
        _program.Learn(Issue(Encrypted, "42424242"), Frames.PeerMac, self: false);
        foreach (byte[] frame in frames)
        {
            int whole = frame.Length;
            // The kernel hands XDP nothing shorter than an Ethernet header (and test runs refuse it).
            for (int length = 14; length < whole; length++)
            {
                uint verdict = Run(frame.AsSpan(0, length).ToArray(), out _);
                bool complete = length >= WholeHeader(frame);
                Assert.True(verdict == Pass || complete, $"a frame of {length} of {whole} octets was steered");
            }
        }

        Assert.True(Count(SteeringBranch.Malformed) > 0);
    }

    // Where the connection ID ends: a frame at least this long is whole as far as steering reads.
    private static int WholeHeader(byte[] frame)
    {
        int ip = frame[12] == 0x86 ? 40 : 20;
        int quic = 14 + ip + 8;
        return (frame[quic] & 0x80) != 0 ? quic + 6 + frame[quic + 5] : quic + 1 + Plain.ConnectionIdLength;
    }

    private static byte[] Issue(QuicLbConfig config, string serverId)
    {
        var encoder = new ConnectionIdEncoder(config, Convert.FromHexString(serverId));
        byte[] connectionId = new byte[config.ConnectionIdLength];
        encoder.Issue(connectionId);
        return connectionId;
    }

    private uint Run(byte[] frame, out byte[] output)
    {
        byte[] buffer = new byte[frame.Length + 256];
        uint verdict = _program.TestRun(frame, buffer, out int length);
        output = buffer[..length];
        return verdict;
    }

    private long Count(SteeringBranch branch) => _program.Counters()[(int)branch];

    private static int OnesComplementSum(ReadOnlySpan<byte> data)
    {
        int sum = 0;
        for (int i = 0; i < data.Length; i += 2)
        {
            sum += (data[i] << 8) | data[i + 1];
            sum = (sum & 0xffff) + (sum >> 16);
        }

        return sum;
    }
}
