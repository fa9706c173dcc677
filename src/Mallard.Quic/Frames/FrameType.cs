namespace Mallard.Quic.Frames;

/// <summary>QUIC frame types (RFC 9000 section 19 and RFC 9221 section 4). STREAM and DATAGRAM carry flag bits in the type.</summary>
internal enum FrameType : ulong
{
    /// <summary>PADDING (0x00).</summary>
    Padding = 0x00,

    /// <summary>PING (0x01).</summary>
    Ping = 0x01,

    /// <summary>ACK (0x02), or ACK with ECN counts (0x03).</summary>
    Ack = 0x02,

    /// <summary>ACK with ECN counts (0x03).</summary>
    AckEcn = 0x03,

    /// <summary>RESET_STREAM (0x04).</summary>
    ResetStream = 0x04,

    /// <summary>STOP_SENDING (0x05).</summary>
    StopSending = 0x05,

    /// <summary>CRYPTO (0x06).</summary>
    Crypto = 0x06,

    /// <summary>NEW_TOKEN (0x07).</summary>
    NewToken = 0x07,

    /// <summary>STREAM (0x08 to 0x0f: OFF 0x04, LEN 0x02, FIN 0x01).</summary>
    Stream = 0x08,

    /// <summary>MAX_DATA (0x10).</summary>
    MaxData = 0x10,

    /// <summary>MAX_STREAM_DATA (0x11).</summary>
    MaxStreamData = 0x11,

    /// <summary>MAX_STREAMS for bidirectional streams (0x12).</summary>
    MaxStreamsBidi = 0x12,

    /// <summary>MAX_STREAMS for unidirectional streams (0x13).</summary>
    MaxStreamsUni = 0x13,

    /// <summary>DATA_BLOCKED (0x14).</summary>
    DataBlocked = 0x14,

    /// <summary>STREAM_DATA_BLOCKED (0x15).</summary>
    StreamDataBlocked = 0x15,

    /// <summary>STREAMS_BLOCKED for bidirectional streams (0x16).</summary>
    StreamsBlockedBidi = 0x16,

    /// <summary>STREAMS_BLOCKED for unidirectional streams (0x17).</summary>
    StreamsBlockedUni = 0x17,

    /// <summary>NEW_CONNECTION_ID (0x18).</summary>
    NewConnectionId = 0x18,

    /// <summary>RETIRE_CONNECTION_ID (0x19).</summary>
    RetireConnectionId = 0x19,

    /// <summary>PATH_CHALLENGE (0x1a).</summary>
    PathChallenge = 0x1a,

    /// <summary>PATH_RESPONSE (0x1b).</summary>
    PathResponse = 0x1b,

    /// <summary>CONNECTION_CLOSE for transport errors (0x1c).</summary>
    ConnectionCloseTransport = 0x1c,

    /// <summary>CONNECTION_CLOSE for application errors (0x1d).</summary>
    ConnectionCloseApplication = 0x1d,

    /// <summary>HANDSHAKE_DONE (0x1e).</summary>
    HandshakeDone = 0x1e,

    /// <summary>DATAGRAM without a length (0x30, RFC 9221).</summary>
    Datagram = 0x30,

    /// <summary>DATAGRAM with a length (0x31, RFC 9221).</summary>
    DatagramWithLength = 0x31,
}
