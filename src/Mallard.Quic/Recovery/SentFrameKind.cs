namespace Mallard.Quic.Recovery;

/// <summary>The frames whose fate after sending the connection tracks (RFC 9000 section 13.3).</summary>
internal enum SentFrameKind
{
    Ack,
    Crypto,
    Stream,
    ResetStream,
    StopSending,
    MaxData,
    MaxStreamData,
    MaxStreamsBidi,
    MaxStreamsUni,
    DataBlocked,
    NewConnectionId,
    RetireConnectionId,
    HandshakeDone,
    NewToken,
    Ping,
    Datagram,
    ConnectionClose,
    PathChallenge,

    /// <summary>Answers a PATH_CHALLENGE; never sent again when lost (RFC 9000 section 13.3).</summary>
    PathResponse,
}
