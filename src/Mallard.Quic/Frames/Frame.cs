using Mallard.Quic.Packets;

namespace Mallard.Quic.Frames;

/// <summary>
/// One decoded frame, as <see cref="FrameReader"/> leaves it: the fields its type uses are set,
/// variable-length parts are spans into the packet payload (nothing is copied or allocated).
/// </summary>
internal ref struct Frame
{
    /// <summary>The frame type; STREAM (0x08-0x0f) reads as <see cref="FrameType.Stream"/>, DATAGRAM as <see cref="FrameType.Datagram"/>.</summary>
    public FrameType Type;

    /// <summary>The type as it appeared on the wire, flags included.</summary>
    public ulong WireType;

    /// <summary>STREAM, RESET_STREAM, STOP_SENDING, MAX_STREAM_DATA, STREAM_DATA_BLOCKED.</summary>
    public ulong StreamId;

    /// <summary>STREAM and CRYPTO offset.</summary>
    public ulong Offset;

    /// <summary>STREAM, CRYPTO and DATAGRAM data.</summary>
    public ReadOnlySpan<byte> Data;

    /// <summary>STREAM: the FIN bit.</summary>
    public bool Fin;

    /// <summary>RESET_STREAM, STOP_SENDING and CONNECTION_CLOSE error code.</summary>
    public ulong ErrorCode;

    /// <summary>RESET_STREAM final size.</summary>
    public ulong FinalSize;

    /// <summary>MAX_DATA, MAX_STREAM_DATA, MAX_STREAMS maximum; DATA_BLOCKED, STREAM_DATA_BLOCKED, STREAMS_BLOCKED limit.</summary>
    public ulong Maximum;

    /// <summary>NEW_CONNECTION_ID and RETIRE_CONNECTION_ID sequence number.</summary>
    public ulong SequenceNumber;

    /// <summary>NEW_CONNECTION_ID Retire Prior To.</summary>
    public ulong RetirePriorTo;

    /// <summary>NEW_CONNECTION_ID connection ID.</summary>
    public ReadOnlySpan<byte> ConnectionId;

    /// <summary>NEW_CONNECTION_ID stateless reset token (16 octets).</summary>
    public ReadOnlySpan<byte> StatelessResetToken;

    /// <summary>PATH_CHALLENGE and PATH_RESPONSE data (8 octets).</summary>
    public ReadOnlySpan<byte> PathData;

    /// <summary>NEW_TOKEN token.</summary>
    public ReadOnlySpan<byte> Token;

    /// <summary>CONNECTION_CLOSE (0x1c): the type of the frame that caused the error.</summary>
    public ulong ClosingFrameType;

    /// <summary>CONNECTION_CLOSE reason phrase (UTF-8).</summary>
    public ReadOnlySpan<byte> Reason;

    /// <summary>ACK: the largest packet number acknowledged.</summary>
    public ulong LargestAcknowledged;

    /// <summary>ACK: the encoded ACK Delay (scale it by the peer's ack_delay_exponent).</summary>
    public ulong AckDelay;

    /// <summary>ACK: packets below the largest in the first range.</summary>
    public ulong FirstAckRange;

    /// <summary>ACK: how many (Gap, ACK Range Length) pairs follow the first range.</summary>
    public int AckRangeCount;

    /// <summary>ACK: the encoded (Gap, ACK Range Length) pairs, already checked for underflow.</summary>
    public ReadOnlySpan<byte> AckRanges;

    /// <summary>ACK with ECN: ECT(0), ECT(1) and ECN-CE counts.</summary>
    public ulong Ect0;

    /// <summary>ACK with ECN: ECT(1) count.</summary>
    public ulong Ect1;

    /// <summary>ACK with ECN: ECN-CE count.</summary>
    public ulong EcnCe;

    /// <summary>
    /// Writes the acknowledged ranges, largest first, as (smallest, largest) pairs; returns how
    /// many were written (at most the destination's length).
    /// </summary>
    public readonly int GetAckRanges(Span<(ulong Smallest, ulong Largest)> destination)
    {
        if (destination.IsEmpty)
        {
            return 0;
        }

        ulong largest = LargestAcknowledged;
        ulong smallest = largest - FirstAckRange;
        destination[0] = (smallest, largest);
        int count = 1;
        ReadOnlySpan<byte> ranges = AckRanges;
        for (int i = 0; i < AckRangeCount && count < destination.Length; i++)
        {
            VariableLengthInteger.TryRead(ranges, out ulong gap, out int gapLength);
            VariableLengthInteger.TryRead(ranges[gapLength..], out ulong rangeLength, out int rangeLengthLength);
            ranges = ranges[(gapLength + rangeLengthLength)..];
            largest = smallest - gap - 2;
            smallest = largest - rangeLength;
            destination[count++] = (smallest, largest);
        }

        return count;
    }
}
