namespace Mallard.Quic.Connections;

/// <summary>What happened to the DATAGRAM frames of one connection (RFC 9221).</summary>
internal sealed class DatagramCounters
{
    /// <summary>Datagrams put into packets.</summary>
    public long Sent { get; set; }

    /// <summary>Datagrams received and queued for the application.</summary>
    public long Received { get; set; }

    private long _droppedOnSend;

    /// <summary>Datagrams refused because the send queue was full (counted on the application's thread).</summary>
    public long DroppedOnSend => Interlocked.Read(ref _droppedOnSend);

    public void CountDroppedOnSend() => Interlocked.Increment(ref _droppedOnSend);

    /// <summary>Received datagrams dropped because the application did not read them in time.</summary>
    public long DroppedOnReceive { get; set; }

    /// <summary>Sent datagrams whose packet was acknowledged.</summary>
    public long Acknowledged { get; set; }

    /// <summary>Datagrams whose packet was declared lost, or that were never sent (they are not retransmitted).</summary>
    public long Lost { get; set; }

    /// <summary>Datagrams dropped unsent because they waited in the queue past their maximum age.</summary>
    public long Expired { get; set; }
}
