using System.Buffers.Binary;

namespace Mallard.Steering.Tests;

/// <summary>A frame user space steers: new MACs, a UDP checksum that verifies, nothing else touched.</summary>
public sealed class SteeredFrameTests
{
    [Theory]
    [InlineData(false, 1200)]
    [InlineData(false, 61)]
    [InlineData(true, 1200)]
    [InlineData(true, 61)]
    public void TheFrameGoesToTheOwnerWithAChecksumThatVerifies(bool ipv6, int size)
    {
        byte[] payload = new byte[size];
        new Random(size).NextBytes(payload);
        byte[] frame = ipv6 ? Frames.Ipv6(payload) : Frames.Ipv4(payload);
        int udp = ipv6 ? 54 : 34;
        frame[udp + 6] = 0x12; // a partial sum, as an offloading sender leaves it
        frame[udp + 7] = 0x34;
        byte[] before = (byte[])frame.Clone();

        Assert.True(SteeredFrame.Prepare(frame, new SteeringTarget(SteeringTarget.MacOf(Frames.PeerMac), false), Frames.OwnMac));

        Assert.Equal(Frames.PeerMac, frame[..6]);
        Assert.Equal(Frames.OwnMac, frame[6..12]);
        Assert.Equal(before[12..(udp + 6)], frame[12..(udp + 6)]);
        Assert.Equal(before[(udp + 8)..], frame[(udp + 8)..]);
        Assert.Equal(0xffff, Verify(frame, udp, ipv6));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ASegmentationBatchBecomesTheDatagramsItHolds(bool ipv6)
    {
        // Three QUIC packets sent with UDP GSO: 40, 40 and a last of 17 octets, in one frame.
        byte[] payload = new byte[97];
        new Random(97).NextBytes(payload);
        byte[] batch = ipv6 ? Frames.Ipv6(payload) : Frames.Ipv4(payload);
        int headers = batch.Length - payload.Length;
        batch[headers - 2] = 0x12; // the partial sum an offloading sender leaves
        batch[headers - 1] = 0x34;
        byte[] output = new byte[batch.Length];
        var datagrams = new List<byte[]>();
        for (int index = 0; ; index++)
        {
            int length = SteeredFrame.Segment(batch, 40, index, output);
            if (length == 0)
            {
                break;
            }

            datagrams.Add(output[..length]);
        }

        Assert.Equal([40, 40, 17], datagrams.Select(d => d.Length - headers));
        for (int i = 0; i < 3; i++)
        {
            byte[] datagram = datagrams[i];
            byte[] alone = ipv6 ? Frames.Ipv6(payload.AsSpan(i * 40, datagram.Length - headers)) : Frames.Ipv4(payload.AsSpan(i * 40, datagram.Length - headers));
            Assert.Equal(alone[..(headers - 2)], datagram[..(headers - 2)].Select((b, j) => !ipv6 && j is 24 or 25 ? alone[j] : b)); // headers as if sent alone
            Assert.Equal(alone[headers..], datagram[headers..]);
            Assert.Equal(0xffff, Verify(datagram, headers - 8, ipv6));
            if (!ipv6)
            {
                Assert.Equal(0xffff, Ones(datagram.AsSpan(14, 20))); // the IPv4 header checksum verifies
            }
        }
    }

    [Fact]
    public void AnIpv4DatagramSentWithoutAChecksumKeepsNone()
    {
        byte[] frame = Frames.Ipv4(new byte[100]);
        frame[40] = 0;
        frame[41] = 0;
        Assert.True(SteeredFrame.FixUdpChecksum(frame));
        Assert.Equal(0, BinaryPrimitives.ReadUInt16BigEndian(frame.AsSpan(40)));
    }

    [Fact]
    public void ACutDatagramIsRefused()
    {
        byte[] frame = Frames.Ipv4(new byte[100]);
        Assert.False(SteeredFrame.FixUdpChecksum(frame.AsSpan(0, frame.Length - 1)));
    }

    private static int Ones(ReadOnlySpan<byte> data)
    {
        long sum = 0;
        for (int i = 0; i < data.Length; i += 2)
        {
            sum += (data[i] << 8) | data[i + 1];
            sum = (sum & 0xffff) + (sum >> 16);
        }

        return (int)sum;
    }

    // RFC 768: the one's complement sum over the pseudo-header and the datagram, checksum
    // included, is all ones for a datagram that verifies; computed 16 bits at a time, plainly.
    private static int Verify(byte[] frame, int udp, bool ipv6)
    {
        int length = BinaryPrimitives.ReadUInt16BigEndian(frame.AsSpan(udp + 4));
        var pseudo = new List<byte>();
        pseudo.AddRange(ipv6 ? frame[22..54] : frame[26..34]);
        pseudo.AddRange(new byte[] { 0, 17, (byte)(length >> 8), (byte)length });
        pseudo.AddRange(frame[udp..(udp + length)]);
        if (pseudo.Count % 2 == 1)
        {
            pseudo.Add(0);
        }

        long sum = 0;
        for (int i = 0; i < pseudo.Count; i += 2)
        {
            sum += (pseudo[i] << 8) | pseudo[i + 1];
            sum = (sum & 0xffff) + (sum >> 16);
        }

        return (int)sum;
    }
}
