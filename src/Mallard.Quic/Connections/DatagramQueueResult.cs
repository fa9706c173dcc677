namespace Mallard.Quic.Connections;

/// <summary>Why a datagram was or was not queued for sending.</summary>
internal enum DatagramQueueResult
{
    Queued,
    NotNegotiated,
    TooLarge,
    QueueFull,
    ConnectionClosed,
}
