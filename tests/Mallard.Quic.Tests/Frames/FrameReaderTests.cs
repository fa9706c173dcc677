using Mallard.Quic.Frames;
using Mallard.Quic.Transport;

namespace Mallard.Quic.Tests.Frames;

public class FrameReaderTests
{
    private static readonly byte[] Token16 = [.. Enumerable.Range(100, 16).Select(i => (byte)i)];
    private static readonly byte[] Path8 = [1, 2, 3, 4, 5, 6, 7, 8];

    /// <summary>One valid encoding of every frame type, written by <see cref="FrameWriter"/>.</summary>
    public static TheoryData<string> EveryFrame() => new()
    {
        "padding", "ping", "ack", "ack-ecn", "reset-stream", "stop-sending", "crypto", "new-token", "stream", "stream-no-length",
        "max-data", "max-stream-data", "max-streams-bidi", "max-streams-uni", "data-blocked", "stream-data-blocked",
        "streams-blocked-bidi", "streams-blocked-uni", "new-connection-id", "retire-connection-id", "path-challenge",
        "path-response", "close-transport", "close-application", "handshake-done", "datagram", "datagram-no-length",
    };

    [Theory]
    [MemberData(nameof(EveryFrame))]
    public void EveryFrameRoundTrips(string name)
    {
        byte[] encoded = Write(name);

        Assert.True(FrameReader.TryRead(encoded, out Frame frame, out int length, out _, out string? reason), reason);
        Assert.Equal(encoded.Length, length);
        Check(name, frame);
    }

    [Theory]
    [MemberData(nameof(EveryFrame))]
    public void EveryTruncatedPrefixIsAFrameEncodingError(string name)
    {
        byte[] encoded = Write(name);
        if (name is "stream-no-length" or "datagram-no-length" or "padding")
        {
            // These run to the end of the packet: a shorter packet is a shorter, valid frame.
            return;
        }

        for (int length = 0; length < encoded.Length; length++)
        {
            Assert.False(FrameReader.TryRead(encoded.AsSpan(0, length), out _, out _, out TransportErrorCode error, out string? reason));
            Assert.Equal(TransportErrorCode.FrameEncodingError, error);
            Assert.NotNull(reason);
        }
    }

    [Theory]
    [InlineData("1f", "unknown frame type 0x1f")]
    [InlineData("02" + "05" + "00" + "00" + "06", "ACK: the first range goes below packet number 0")]
    [InlineData("02" + "0a" + "00" + "01" + "02" + "07" + "00", "ACK: a range goes below packet number 0")]
    [InlineData("12" + "c0000000000000", "MaxStreamsBidi is truncated")]
    [InlineData("13" + "d000000000000001", "MaxStreamsUni allows 1152921504606846977 streams; at most 2^60 can exist")]
    [InlineData("18" + "01" + "00" + "00" + "00000000000000000000000000000000", "NEW_CONNECTION_ID has a connection ID of 0 octets; 1 to 20 are allowed")]
    [InlineData("07" + "00", "NEW_TOKEN has an empty token")]
    [InlineData("0e" + "00" + "ffffffffffffffff" + "01" + "aa", "STREAM ends beyond 2^62 - 1")]
    public void MalformedFramesAreFrameEncodingErrors(string hex, string expected)
    {
        Assert.False(FrameReader.TryRead(Convert.FromHexString(hex), out _, out _, out TransportErrorCode error, out string? reason));
        Assert.Equal(TransportErrorCode.FrameEncodingError, error);
        Assert.Equal(expected, reason);
    }

    [Fact]
    public void RetirePriorToAboveTheSequenceNumberIsAProtocolViolation()
    {
        byte[] frame = Convert.FromHexString("18" + "01" + "02" + "04" + "01020304" + "00000000000000000000000000000000");

        Assert.False(FrameReader.TryRead(frame, out _, out _, out TransportErrorCode error, out _));
        Assert.Equal(TransportErrorCode.ProtocolViolation, error);
    }

    [Fact]
    public void RandomPayloadsNeverThrow()
    {
        var random = new Random(19);
        byte[] buffer = new byte[128];
        for (int i = 0; i < 200_000; i++)
        {
            int length = random.Next(0, buffer.Length);
            random.NextBytes(buffer.AsSpan(0, length));
            if (FrameReader.TryRead(buffer.AsSpan(0, length), out _, out int consumed, out _, out _))
            {
                Assert.InRange(consumed, 1, length);
            }
        }
    }

    [Fact]
    public void AckRangesDecodeLargestFirst()
    {
        byte[] encoded = new byte[64];
        var writer = new FrameWriter(encoded);
        Assert.True(writer.Ack([(95, 100), (80, 90), (0, 10)], 7));

        Assert.True(FrameReader.TryRead(encoded.AsSpan(0, writer.Length), out Frame frame, out _, out _, out _));
        Span<(ulong, ulong)> ranges = stackalloc (ulong, ulong)[4];
        Assert.Equal(3, frame.GetAckRanges(ranges));
        Assert.Equal((95UL, 100UL), ranges[0]);
        Assert.Equal((80UL, 90UL), ranges[1]);
        Assert.Equal((0UL, 10UL), ranges[2]);
        Assert.Equal(7UL, frame.AckDelay);
    }

    [Fact]
    public void AFrameThatDoesNotFitIsNotWrittenAtAll()
    {
        byte[] small = new byte[10];
        var writer = new FrameWriter(small);

        Assert.False(writer.Crypto(0, new byte[20]));
        Assert.Equal(0, writer.Length);
        Assert.True(writer.Ping());
        Assert.Equal(1, writer.Length);
    }

    private static byte[] Write(string name)
    {
        byte[] buffer = new byte[256];
        var writer = new FrameWriter(buffer);
        bool ok = name switch
        {
            "padding" => writer.Padding(1),
            "ping" => writer.Ping(),
            "ack" => writer.Ack([(990, 1000), (500, 900)], 42),
            "ack-ecn" => writer.Ack([(0, 1000)], 42, (5, 6, 7)),
            "reset-stream" => writer.ResetStream(4, 0x101, 12_345),
            "stop-sending" => writer.StopSending(8, 0x102),
            "crypto" => writer.Crypto(1000, "hello"u8),
            "new-token" => writer.NewToken("token"u8),
            "stream" => writer.Stream(5, 70_000, "data"u8, fin: true),
            "stream-no-length" => writer.Stream(5, 0, "tail"u8, fin: false, withLength: false),
            "max-data" => writer.MaxData(1 << 30),
            "max-stream-data" => writer.MaxStreamData(4, 1 << 20),
            "max-streams-bidi" => writer.MaxStreams(true, 100),
            "max-streams-uni" => writer.MaxStreams(false, 1UL << 60),
            "data-blocked" => writer.DataBlocked(999),
            "stream-data-blocked" => writer.StreamDataBlocked(4, 888),
            "streams-blocked-bidi" => writer.StreamsBlocked(true, 7),
            "streams-blocked-uni" => writer.StreamsBlocked(false, 9),
            "new-connection-id" => writer.NewConnectionId(3, 1, [9, 8, 7, 6, 5, 4, 3, 2], Token16),
            "retire-connection-id" => writer.RetireConnectionId(2),
            "path-challenge" => writer.PathChallenge(Path8),
            "path-response" => writer.PathResponse(Path8),
            "close-transport" => writer.ConnectionClose(false, 0x0a, 0x08, "bad stream"u8),
            "close-application" => writer.ConnectionClose(true, 0x101, 0, "SIDUCK_ONLY_QUACKS_ECHO"u8),
            "handshake-done" => writer.HandshakeDone(),
            "datagram" => writer.Datagram("quack"u8),
            "datagram-no-length" => writer.Datagram("quack-ack"u8, withLength: false),
            _ => throw new ArgumentOutOfRangeException(nameof(name)),
        };
        Assert.True(ok);
        return buffer[..writer.Length];
    }

    private static void Check(string name, Frame frame)
    {
        switch (name)
        {
            case "padding": Assert.Equal(FrameType.Padding, frame.Type); break;
            case "ping": Assert.Equal(FrameType.Ping, frame.Type); break;
            case "ack":
                Assert.Equal(FrameType.Ack, frame.Type);
                Assert.Equal(1000UL, frame.LargestAcknowledged);
                Assert.Equal(10UL, frame.FirstAckRange);
                Assert.Equal(1, frame.AckRangeCount);
                break;
            case "ack-ecn":
                Assert.Equal(FrameType.AckEcn, frame.Type);
                Assert.Equal((5UL, 6UL, 7UL), (frame.Ect0, frame.Ect1, frame.EcnCe));
                break;
            case "reset-stream": Assert.Equal((4UL, 0x101UL, 12_345UL), (frame.StreamId, frame.ErrorCode, frame.FinalSize)); break;
            case "stop-sending": Assert.Equal((8UL, 0x102UL), (frame.StreamId, frame.ErrorCode)); break;
            case "crypto":
                Assert.Equal(1000UL, frame.Offset);
                Assert.Equal("hello"u8.ToArray(), frame.Data.ToArray());
                break;
            case "new-token": Assert.Equal("token"u8.ToArray(), frame.Token.ToArray()); break;
            case "stream":
                Assert.Equal(FrameType.Stream, frame.Type);
                Assert.Equal((5UL, 70_000UL, true), (frame.StreamId, frame.Offset, frame.Fin));
                Assert.Equal("data"u8.ToArray(), frame.Data.ToArray());
                break;
            case "stream-no-length": Assert.Equal("tail"u8.ToArray(), frame.Data.ToArray()); break;
            case "max-data": Assert.Equal(1UL << 30, frame.Maximum); break;
            case "max-stream-data": Assert.Equal((4UL, 1UL << 20), (frame.StreamId, frame.Maximum)); break;
            case "max-streams-bidi": Assert.Equal((FrameType.MaxStreamsBidi, 100UL), (frame.Type, frame.Maximum)); break;
            case "max-streams-uni": Assert.Equal((FrameType.MaxStreamsUni, 1UL << 60), (frame.Type, frame.Maximum)); break;
            case "data-blocked": Assert.Equal(999UL, frame.Maximum); break;
            case "stream-data-blocked": Assert.Equal((4UL, 888UL), (frame.StreamId, frame.Maximum)); break;
            case "streams-blocked-bidi": Assert.Equal((FrameType.StreamsBlockedBidi, 7UL), (frame.Type, frame.Maximum)); break;
            case "streams-blocked-uni": Assert.Equal((FrameType.StreamsBlockedUni, 9UL), (frame.Type, frame.Maximum)); break;
            case "new-connection-id":
                Assert.Equal((3UL, 1UL), (frame.SequenceNumber, frame.RetirePriorTo));
                Assert.Equal(new byte[] { 9, 8, 7, 6, 5, 4, 3, 2 }, frame.ConnectionId.ToArray());
                Assert.Equal(Token16, frame.StatelessResetToken.ToArray());
                break;
            case "retire-connection-id": Assert.Equal(2UL, frame.SequenceNumber); break;
            case "path-challenge":
                Assert.Equal(FrameType.PathChallenge, frame.Type);
                Assert.Equal(Path8, frame.PathData.ToArray());
                break;
            case "path-response": Assert.Equal(FrameType.PathResponse, frame.Type); break;
            case "close-transport":
                Assert.Equal((FrameType.ConnectionCloseTransport, 0x0aUL, 0x08UL), (frame.Type, frame.ErrorCode, frame.ClosingFrameType));
                Assert.Equal("bad stream"u8.ToArray(), frame.Reason.ToArray());
                break;
            case "close-application": Assert.Equal((FrameType.ConnectionCloseApplication, 0x101UL), (frame.Type, frame.ErrorCode)); break;
            case "handshake-done": Assert.Equal(FrameType.HandshakeDone, frame.Type); break;
            case "datagram": Assert.Equal("quack"u8.ToArray(), frame.Data.ToArray()); break;
            case "datagram-no-length": Assert.Equal("quack-ack"u8.ToArray(), frame.Data.ToArray()); break;
            default: throw new ArgumentOutOfRangeException(nameof(name));
        }
    }
}
