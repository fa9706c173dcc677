using Mallard.Quic.Streams;

namespace Mallard.Quic.Connections;

/// <summary>
/// One stream's two halves (RFC 9000 sections 2-4): what this endpoint sends, with its reset
/// state, and what it receives, with the flow-control window it advertises.
/// </summary>
internal sealed class StreamState
{
    public StreamState(ulong id, bool isServer, ulong peerLimit, ulong receiveWindow)
    {
        Id = id;
        IsLocal = ((id & 1) == 1) == isServer;
        bool bidirectional = IsBidirectional;
        if (bidirectional || IsLocal)
        {
            Send = new SendBuffer(peerLimit);
        }

        if (bidirectional || !IsLocal)
        {
            Receive = new ReassemblyBuffer(receiveWindow);
            ReceiveWindow = receiveWindow;
        }
    }

    public ulong Id { get; }

    /// <summary>Whether this endpoint opened the stream.</summary>
    public bool IsLocal { get; }

    public bool IsBidirectional => (Id & 2) == 0;

    /// <summary>The sending half; null on a unidirectional stream the peer opened.</summary>
    public SendBuffer? Send { get; }

    /// <summary>The receiving half; null on a unidirectional stream this endpoint opened.</summary>
    public ReassemblyBuffer? Receive { get; }

    /// <summary>The receive window that auto-tuning grows (section 4.1).</summary>
    public ulong ReceiveWindow { get; set; }

    /// <summary>When the window was last moved, to tell whether it is too small for the RTT.</summary>
    public long LastWindowUpdate { get; set; }

    public bool MaxStreamDataPending { get; set; }

    public bool StreamDataBlockedPending { get; set; }

    /// <summary>The error code this endpoint reset its sending half with (RESET_STREAM to send).</summary>
    public ulong? LocalResetCode { get; set; }

    public bool ResetPending { get; set; }

    public bool ResetAcknowledged { get; set; }

    /// <summary>The error code this endpoint asked the peer to stop sending with.</summary>
    public ulong? LocalStopCode { get; set; }

    public bool StopSendingPending { get; set; }

    /// <summary>The peer's RESET_STREAM error code, once received.</summary>
    public ulong? PeerResetCode { get; set; }

    /// <summary>The peer's STOP_SENDING error code, once received.</summary>
    public ulong? PeerStopCode { get; set; }

    /// <summary>Whether the application has read everything up to the FIN (or the peer reset).</summary>
    public bool ReceiveDone => Receive is null || Receive.IsFinished || PeerResetCode is not null || LocalStopCode is not null;

    /// <summary>Whether the sending half is finished: all data and FIN acknowledged, or reset and the reset acknowledged.</summary>
    public bool SendDone => Send is null || Send.IsComplete || ResetAcknowledged;

    /// <summary>Whether new STREAM frames may still be sent.</summary>
    public bool CanSendData => Send is not null && LocalResetCode is null;
}
