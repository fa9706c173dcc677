using CsCheck;
using Mallard.Quic.Frames;
using Mallard.Quic.Packets;
using Mallard.Quic.Transport;

namespace Mallard.Quic.Tests.Frames;

/// <summary>
/// Property tests (CsCheck, with shrinking) of the frame codec: what the writer writes the reader
/// reads back field for field, and any bytes at all are either a frame or a clean refusal.
/// </summary>
public class FramePropertyTests
{
    private static readonly Gen<ulong> VarInt = Gen.OneOf(Gen.ULong[0, 63], Gen.ULong[0, 16_383], Gen.ULong[0, VariableLengthInteger.Max]);

    [Fact]
    public void VariableLengthIntegersRoundTripInTheShortestForm()
    {
        VarInt.Sample(value =>
        {
            Span<byte> buffer = stackalloc byte[8];
            int written = VariableLengthInteger.TryWrite(buffer, value);
            return written == VariableLengthInteger.EncodedLength(value)
                && VariableLengthInteger.TryRead(buffer[..written], out ulong read, out int length)
                && read == value && length == written;
        }, seed: "4B3zM5ZKvIH2");
    }

    [Fact]
    public void StreamFramesRoundTrip()
    {
        Gen.Select(Gen.ULong[0, VariableLengthInteger.Max], Gen.ULong[0, 1UL << 40], Gen.Byte.Array[0, 300], Gen.Bool, Gen.Bool).Sample((id, offset, data, fin, withLength) =>
        {
            byte[] buffer = new byte[400];
            var writer = new FrameWriter(buffer);
            if (!writer.Stream(id, offset, data, fin, withLength))
            {
                return false;
            }

            return FrameReader.TryRead(buffer.AsSpan(0, writer.Length), out Frame frame, out int length, out _, out _)
                && length == writer.Length && frame.Type == FrameType.Stream && frame.StreamId == id && frame.Offset == offset
                && frame.Fin == fin && frame.Data.SequenceEqual(data);
        }, seed: "5Wd2yXkPTz40");
    }

    [Fact]
    public void AckFramesRoundTripTheirRanges()
    {
        // Disjoint ranges, largest first, with gaps of at least one packet number (RFC 9000 section 19.3.1).
        Gen<(ulong, ulong)[]> ranges = Gen.Select(Gen.ULong[0, 1UL << 30], Gen.Select(Gen.ULong[0, 1000], Gen.ULong[0, 1000]).Array[0, 40]).Select((top, pieces) =>
        {
            var list = new List<(ulong Smallest, ulong Largest)>();
            ulong largest = top + 100_000;
            foreach ((ulong length, ulong gap) in pieces.Prepend((0UL, 0UL)))
            {
                ulong smallest = largest - length;
                list.Add((smallest, largest));
                if (smallest < gap + 2 + 1000)
                {
                    break;
                }

                largest = smallest - gap - 2;
            }

            return list.ToArray();
        });
        Gen.Select(ranges, VarInt).Sample((written, delay) =>
        {
            byte[] buffer = new byte[1200];
            var writer = new FrameWriter(buffer);
            if (!writer.Ack(written, delay))
            {
                return false;
            }

            var read = new (ulong, ulong)[64];
            return FrameReader.TryRead(buffer.AsSpan(0, writer.Length), out Frame frame, out int length, out _, out _)
                && length == writer.Length && frame.AckDelay == delay
                && read.AsSpan(0, frame.GetAckRanges(read)).SequenceEqual(written);
        }, seed: "0dTQ7WcgkXy1");
    }

    [Fact]
    public void ControlFramesRoundTrip()
    {
        Gen.Select(VarInt, VarInt, VarInt).Sample((a, b, c) =>
        {
            ulong retire = Math.Min(a, b);
            byte[] buffer = new byte[200];
            var writer = new FrameWriter(buffer);
            writer.ResetStream(a, b, c);
            writer.MaxStreamData(a, b);
            writer.NewConnectionId(Math.Max(a, b), retire, [1, 2, 3, 4, 5, 6, 7, 8], new byte[16]);
            writer.ConnectionClose(false, c, a, "why"u8);
            ReadOnlySpan<byte> rest = buffer.AsSpan(0, writer.Length);
            bool ok = FrameReader.TryRead(rest, out Frame reset, out int n, out _, out _) && reset.StreamId == a && reset.ErrorCode == b && reset.FinalSize == c;
            rest = rest[n..];
            ok &= FrameReader.TryRead(rest, out Frame max, out n, out _, out _) && max.StreamId == a && max.Maximum == b;
            rest = rest[n..];
            ok &= FrameReader.TryRead(rest, out Frame issued, out n, out _, out _) && issued.SequenceNumber == Math.Max(a, b) && issued.RetirePriorTo == retire && issued.ConnectionId.Length == 8;
            rest = rest[n..];
            ok &= FrameReader.TryRead(rest, out Frame close, out n, out _, out _) && close.ErrorCode == c && close.ClosingFrameType == a && close.Reason.SequenceEqual("why"u8);
            return ok && n == rest.Length;
        }, seed: "3fJ2hQmYs1V0");
    }

    [Fact]
    public void AnyBytesAreAFrameOrACleanRefusal()
    {
        Gen.Byte.Array[0, 64].Sample(bytes =>
        {
            if (FrameReader.TryRead(bytes, out _, out int length, out TransportErrorCode error, out _))
            {
                return length > 0 && length <= bytes.Length;
            }

            return error != TransportErrorCode.NoError || bytes.Length == 0;
        }, iter: 20_000, seed: "1xGk2LqP8Rz0");
    }
}
