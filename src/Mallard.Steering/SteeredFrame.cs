using System.Buffers.Binary;

namespace Mallard.Steering;

/// <summary>
/// Turns a frame that arrived here into the frame the owner receives, as the XDP program's
/// XDP_TX does: the destination MAC becomes the owner's and the source this server's. The IP
/// header is left alone, so the owner sees the client's address and answers it from the service
/// address. The UDP checksum is computed afresh: a copy taken in user space may hold only the
/// partial sum of a sender that offloads checksums (veth, virtio), which the owner's stack would
/// reject once the frame arrives without that offload's mark. A packet damaged on the way still
/// fails QUIC's AEAD at the owner.
/// </summary>
internal static class SteeredFrame
{
    /// <summary>Rewrites <paramref name="frame"/> (a whole frame) for <paramref name="owner"/>; false when its UDP datagram does not fit it.</summary>
    public static bool Prepare(Span<byte> frame, SteeringTarget owner, ReadOnlySpan<byte> ownMac)
    {
        owner.WriteMac(frame);
        ownMac[..6].CopyTo(frame[6..]);
        return FixUdpChecksum(frame);
    }

    /// <summary>
    /// Cuts datagram <paramref name="index"/> out of a segmentation offload batch (one frame whose
    /// UDP payload is several datagrams of <paramref name="segmentSize"/> octets, the last maybe
    /// shorter) into <paramref name="output"/>: the batch's headers with the IP and UDP lengths,
    /// the IPv4 header checksum and the UDP checksum made right for that datagram. Its length, or
    /// 0 past the last.
    /// </summary>
    public static int Segment(ReadOnlySpan<byte> batch, int segmentSize, int index, Span<byte> output)
    {
        bool ipv4 = BinaryPrimitives.ReadUInt16BigEndian(batch[12..]) == 0x0800;
        int ipLength = ipv4 ? (batch[14] & 0x0f) * 4 : 40;
        int payload = 14 + ipLength + 8;
        int start = payload + (index * segmentSize);
        if (segmentSize <= 0 || start >= batch.Length)
        {
            return 0;
        }

        int size = Math.Min(segmentSize, batch.Length - start);
        batch[..payload].CopyTo(output);
        batch.Slice(start, size).CopyTo(output[payload..]);
        if (ipv4)
        {
            BinaryPrimitives.WriteUInt16BigEndian(output[16..], (ushort)(ipLength + 8 + size));
            output.Slice(24, 2).Clear();
            BinaryPrimitives.WriteUInt16BigEndian(output[24..], (ushort)~Fold(Sum(output.Slice(14, ipLength))));
        }
        else
        {
            BinaryPrimitives.WriteUInt16BigEndian(output[18..], (ushort)(8 + size));
        }

        BinaryPrimitives.WriteUInt16BigEndian(output[(payload - 4)..], (ushort)(8 + size));
        if (!ipv4 || output[payload - 2] != 0 || output[payload - 1] != 0)
        {
            output[payload - 2] = 0xff; // any non-zero value: FixUdpChecksum then computes it
        }

        FixUdpChecksum(output[..(payload + size)]);
        return payload + size;
    }

    /// <summary>Recomputes the UDP checksum of an IPv4 or IPv6 frame (RFC 768, RFC 8200 section 8.1); false when the datagram is cut.</summary>
    public static bool FixUdpChecksum(Span<byte> frame)
    {
        ushort etherType = BinaryPrimitives.ReadUInt16BigEndian(frame[12..]);
        int udp;
        ulong sum;
        if (etherType == 0x0800)
        {
            udp = 14 + ((frame[14] & 0x0f) * 4);
            sum = Sum(frame.Slice(14 + 12, 8)) + 17;
        }
        else
        {
            udp = 14 + 40;
            sum = Sum(frame.Slice(14 + 8, 32)) + 17;
        }

        int length = BinaryPrimitives.ReadUInt16BigEndian(frame[(udp + 4)..]);
        if (length < 8 || udp + length > frame.Length)
        {
            return false;
        }

        Span<byte> checksum = frame.Slice(udp + 6, 2);
        if (etherType == 0x0800 && checksum[0] == 0 && checksum[1] == 0)
        {
            return true; // IPv4 lets a sender send none; keep it so
        }

        checksum.Clear();
        sum += (ulong)length + Sum(frame.Slice(udp, length));
        ushort folded = (ushort)~Fold(sum);
        BinaryPrimitives.WriteUInt16BigEndian(checksum, folded == 0 ? (ushort)0xffff : folded);
        return true;
    }

    // The one's complement sum of big-endian 16-bit words, unfolded (a 64-bit accumulator cannot
    // overflow on a frame), an odd last octet padded with zero.
    private static ulong Sum(ReadOnlySpan<byte> data)
    {
        ulong sum = 0;
        int i = 0;
        for (; i + 4 <= data.Length; i += 4)
        {
            sum += BinaryPrimitives.ReadUInt32BigEndian(data[i..]);
        }

        for (; i + 2 <= data.Length; i += 2)
        {
            sum += BinaryPrimitives.ReadUInt16BigEndian(data[i..]);
        }

        if (i < data.Length)
        {
            sum += (ulong)data[i] << 8;
        }

        return sum;
    }

    private static ushort Fold(ulong sum)
    {
        while (sum > 0xffff)
        {
            sum = (sum & 0xffff) + (sum >> 16);
        }

        return (ushort)sum;
    }
}
