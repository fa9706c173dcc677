using Mallard.Quic.Packets;
using Mallard.Quic.Transport;

namespace Mallard.Quic.Frames;

/// <summary>
/// Decodes frames from a decrypted packet payload (RFC 9000 section 19, RFC 9221 section 4).
/// Never throws: a frame that is truncated, out of range or of an unknown type yields
/// FRAME_ENCODING_ERROR (or the section's own error code) with a reason, and the connection closes.
/// </summary>
internal static class FrameReader
{
    private const ulong MaxStreams = 1UL << 60;

    /// <summary>Reads the frame at the start of <paramref name="payload"/>.</summary>
    /// <returns>True with the frame and its encoded length; false with an error code and reason.</returns>
    public static bool TryRead(ReadOnlySpan<byte> payload, out Frame frame, out int length, out TransportErrorCode error, out string? reason)
    {
        frame = default;
        Frame result = default;
        length = 0;
        error = TransportErrorCode.FrameEncodingError;
        var input = new Input(payload);
        if (!input.Integer(out ulong type))
        {
            reason = "the frame type is truncated";
            return false;
        }

        result.WireType = type;
        reason = type switch
        {
            0x00 => ReadPadding(ref input, ref result),
            0x01 => Simple(ref result, FrameType.Ping),
            0x02 or 0x03 => ReadAck(ref input, ref result, type == 0x03),
            0x04 => ReadResetStream(ref input, ref result),
            0x05 => Fields(ref input, ref result, FrameType.StopSending, out result.StreamId, out result.ErrorCode),
            0x06 => ReadCrypto(ref input, ref result),
            0x07 => ReadNewToken(ref input, ref result),
            >= 0x08 and <= 0x0f => ReadStream(ref input, ref result, type),
            0x10 => Field(ref input, ref result, FrameType.MaxData, out result.Maximum),
            0x11 => Fields(ref input, ref result, FrameType.MaxStreamData, out result.StreamId, out result.Maximum),
            0x12 or 0x13 => ReadStreamCount(ref input, ref result, type == 0x12 ? FrameType.MaxStreamsBidi : FrameType.MaxStreamsUni),
            0x14 => Field(ref input, ref result, FrameType.DataBlocked, out result.Maximum),
            0x15 => Fields(ref input, ref result, FrameType.StreamDataBlocked, out result.StreamId, out result.Maximum),
            0x16 or 0x17 => ReadStreamCount(ref input, ref result, type == 0x16 ? FrameType.StreamsBlockedBidi : FrameType.StreamsBlockedUni),
            0x18 => ReadNewConnectionId(ref input, ref result),
            0x19 => Field(ref input, ref result, FrameType.RetireConnectionId, out result.SequenceNumber),
            0x1a or 0x1b => ReadPathData(ref input, ref result, type == 0x1a ? FrameType.PathChallenge : FrameType.PathResponse),
            0x1c or 0x1d => ReadConnectionClose(ref input, ref result, type == 0x1c),
            0x1e => Simple(ref result, FrameType.HandshakeDone),
            0x30 or 0x31 => ReadDatagram(ref input, ref result, type == 0x31),
            _ => $"unknown frame type 0x{type:x}",
        };

        if (reason is not null)
        {
            if (reason.StartsWith("NEW_CONNECTION_ID: Retire", StringComparison.Ordinal))
            {
                error = TransportErrorCode.ProtocolViolation;
            }

            return false;
        }

        frame = result;
        length = input.Consumed;
        error = TransportErrorCode.NoError;
        return true;
    }

    /// <summary>A run of PADDING octets reads as one frame (each octet is a frame, RFC 9000 section 19.1); its length is the run.</summary>
    private static string? ReadPadding(scoped ref Input input, scoped ref Frame frame)
    {
        frame.Type = FrameType.Padding;
        input.SkipZeros();
        return null;
    }

    private static string? Simple(scoped ref Frame frame, FrameType type)
    {
        frame.Type = type;
        return null;
    }

    private static string? Field(scoped ref Input input, scoped ref Frame frame, FrameType type, out ulong value)
    {
        frame.Type = type;
        return input.Integer(out value) ? null : $"{type} is truncated";
    }

    private static string? Fields(scoped ref Input input, scoped ref Frame frame, FrameType type, out ulong first, out ulong second)
    {
        frame.Type = type;
        second = 0;
        return input.Integer(out first) && input.Integer(out second) ? null : $"{type} is truncated";
    }

    private static string? ReadAck(scoped ref Input input, scoped ref Frame frame, bool ecn)
    {
        frame.Type = ecn ? FrameType.AckEcn : FrameType.Ack;
        if (!input.Integer(out frame.LargestAcknowledged) || !input.Integer(out frame.AckDelay)
            || !input.Integer(out ulong rangeCount) || !input.Integer(out frame.FirstAckRange))
        {
            return "ACK is truncated";
        }

        if (frame.FirstAckRange > frame.LargestAcknowledged)
        {
            return "ACK: the first range goes below packet number 0";
        }

        int start = input.Consumed;
        ulong smallest = frame.LargestAcknowledged - frame.FirstAckRange;
        for (ulong i = 0; i < rangeCount; i++)
        {
            if (!input.Integer(out ulong gap) || !input.Integer(out ulong rangeLength))
            {
                return "ACK ranges are truncated";
            }

            // Each gap and range must stay at or above packet number 0 (RFC 9000 section 19.3.1).
            if (gap + 2 > smallest || rangeLength > smallest - gap - 2)
            {
                return "ACK: a range goes below packet number 0";
            }

            smallest = smallest - gap - 2 - rangeLength;
        }

        frame.AckRangeCount = (int)Math.Min(rangeCount, int.MaxValue);
        frame.AckRanges = input.Slice(start);
        if (ecn && !(input.Integer(out frame.Ect0) && input.Integer(out frame.Ect1) && input.Integer(out frame.EcnCe)))
        {
            return "ACK ECN counts are truncated";
        }

        return null;
    }

    private static string? ReadResetStream(scoped ref Input input, scoped ref Frame frame)
    {
        frame.Type = FrameType.ResetStream;
        return input.Integer(out frame.StreamId) && input.Integer(out frame.ErrorCode) && input.Integer(out frame.FinalSize)
            ? null : "RESET_STREAM is truncated";
    }

    private static string? ReadCrypto(scoped ref Input input, scoped ref Frame frame)
    {
        frame.Type = FrameType.Crypto;
        if (!input.Integer(out frame.Offset) || !input.Integer(out ulong length) || !input.Bytes(length, out frame.Data))
        {
            return "CRYPTO is truncated";
        }

        return frame.Offset + length > VariableLengthInteger.Max ? "CRYPTO ends beyond 2^62 - 1" : null;
    }

    private static string? ReadNewToken(scoped ref Input input, scoped ref Frame frame)
    {
        frame.Type = FrameType.NewToken;
        if (!input.Integer(out ulong length) || !input.Bytes(length, out frame.Token))
        {
            return "NEW_TOKEN is truncated";
        }

        return length == 0 ? "NEW_TOKEN has an empty token" : null;
    }

    private static string? ReadStream(scoped ref Input input, scoped ref Frame frame, ulong type)
    {
        frame.Type = FrameType.Stream;
        frame.Fin = (type & 0x01) != 0;
        if (!input.Integer(out frame.StreamId) || ((type & 0x04) != 0 && !input.Integer(out frame.Offset)))
        {
            return "STREAM is truncated";
        }

        ulong length;
        if ((type & 0x02) != 0)
        {
            if (!input.Integer(out length))
            {
                return "STREAM is truncated";
            }
        }
        else
        {
            length = (ulong)input.Remaining;
        }

        if (!input.Bytes(length, out frame.Data))
        {
            return "STREAM data is truncated";
        }

        return frame.Offset + length > VariableLengthInteger.Max ? "STREAM ends beyond 2^62 - 1" : null;
    }

    private static string? ReadStreamCount(scoped ref Input input, scoped ref Frame frame, FrameType type)
    {
        frame.Type = type;
        if (!input.Integer(out frame.Maximum))
        {
            return $"{type} is truncated";
        }

        return frame.Maximum > MaxStreams ? $"{type} allows {frame.Maximum} streams; at most 2^60 can exist" : null;
    }

    private static string? ReadNewConnectionId(scoped ref Input input, scoped ref Frame frame)
    {
        frame.Type = FrameType.NewConnectionId;
        if (!input.Integer(out frame.SequenceNumber) || !input.Integer(out frame.RetirePriorTo) || !input.Byte(out byte length)
            || !input.Bytes(length, out frame.ConnectionId) || !input.Bytes(16, out frame.StatelessResetToken))
        {
            return "NEW_CONNECTION_ID is truncated";
        }

        if (length is 0 or > 20)
        {
            return $"NEW_CONNECTION_ID has a connection ID of {length} octets; 1 to 20 are allowed";
        }

        return frame.RetirePriorTo > frame.SequenceNumber ? "NEW_CONNECTION_ID: Retire Prior To is greater than the sequence number" : null;
    }

    private static string? ReadPathData(scoped ref Input input, scoped ref Frame frame, FrameType type)
    {
        frame.Type = type;
        return input.Bytes(8, out frame.PathData) ? null : $"{type} is truncated";
    }

    private static string? ReadConnectionClose(scoped ref Input input, scoped ref Frame frame, bool transport)
    {
        frame.Type = transport ? FrameType.ConnectionCloseTransport : FrameType.ConnectionCloseApplication;
        if (!input.Integer(out frame.ErrorCode) || (transport && !input.Integer(out frame.ClosingFrameType))
            || !input.Integer(out ulong length) || !input.Bytes(length, out frame.Reason))
        {
            return "CONNECTION_CLOSE is truncated";
        }

        return null;
    }

    private static string? ReadDatagram(scoped ref Input input, scoped ref Frame frame, bool withLength)
    {
        frame.Type = FrameType.Datagram;
        ulong length = (ulong)input.Remaining;
        if (withLength && !input.Integer(out length))
        {
            return "DATAGRAM is truncated";
        }

        return input.Bytes(length, out frame.Data) ? null : "DATAGRAM data is truncated";
    }

    /// <summary>A cursor over the payload.</summary>
    private ref struct Input
    {
        private readonly ReadOnlySpan<byte> _all;
        private int _position;

        public Input(ReadOnlySpan<byte> all)
        {
            _all = all;
            _position = 0;
        }

        public readonly int Consumed => _position;

        public readonly int Remaining => _all.Length - _position;

        public void SkipZeros()
        {
            int run = _all[_position..].IndexOfAnyExcept((byte)0);
            _position = run < 0 ? _all.Length : _position + run;
        }

        public bool Integer(out ulong value)
        {
            if (!VariableLengthInteger.TryRead(_all[_position..], out value, out int length))
            {
                return false;
            }

            _position += length;
            return true;
        }

        public bool Byte(out byte value)
        {
            value = 0;
            if (_position >= _all.Length)
            {
                return false;
            }

            value = _all[_position++];
            return true;
        }

        public bool Bytes(ulong length, out ReadOnlySpan<byte> value)
        {
            value = default;
            if (length > (ulong)Remaining)
            {
                return false;
            }

            value = _all.Slice(_position, (int)length);
            _position += (int)length;
            return true;
        }

        public readonly ReadOnlySpan<byte> Slice(int start) => _all[start.._position];
    }
}
