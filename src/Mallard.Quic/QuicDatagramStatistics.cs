namespace Mallard.Quic;

/// <summary>DATAGRAM counters of one connection.</summary>
/// <param name="Sent">Datagrams put into packets.</param>
/// <param name="Received">Datagrams received.</param>
/// <param name="DroppedOnSend">Datagrams refused because the send queue was full.</param>
/// <param name="DroppedOnReceive">Received datagrams dropped because the receive queue was full (the oldest goes).</param>
/// <param name="Acknowledged">Sent datagrams whose packet the peer acknowledged.</param>
/// <param name="Lost">Datagrams declared lost, or never sent because the connection ended.</param>
/// <param name="Expired">Datagrams dropped unsent because they waited longer than their maximum age.</param>
public readonly record struct QuicDatagramStatistics(long Sent, long Received, long DroppedOnSend, long DroppedOnReceive, long Acknowledged, long Lost, long Expired);
