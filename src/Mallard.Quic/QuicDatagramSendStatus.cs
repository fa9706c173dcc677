namespace Mallard.Quic;

/// <summary>What <see cref="QuicConnection.TrySendDatagram(ReadOnlyMemory{byte}, Action{QuicDatagramDelivery}?)"/> did with a datagram.</summary>
public enum QuicDatagramSendStatus
{
    /// <summary>Queued; it goes out as soon as the congestion window allows.</summary>
    Queued,

    /// <summary>The peer did not advertise max_datagram_frame_size (RFC 9221 section 3).</summary>
    NotNegotiated,

    /// <summary>Larger than <see cref="QuicConnection.MaxDatagramSize"/>; DATAGRAM frames are never split.</summary>
    TooLarge,

    /// <summary>The send queue (<see cref="QuicConnectionOptions.DatagramSendQueueCapacity"/>) is full; counted in <see cref="QuicDatagramStatistics.DroppedOnSend"/>.</summary>
    QueueFull,

    /// <summary>The connection is closing or closed.</summary>
    ConnectionClosed,
}
