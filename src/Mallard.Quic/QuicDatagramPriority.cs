namespace Mallard.Quic;

/// <summary>How a connection shares packets between DATAGRAM frames and stream data when both wait.</summary>
public enum QuicDatagramPriority
{
    /// <summary>
    /// Datagrams lead each packet: a real-time message never waits behind a bulk transfer on the
    /// same connection. Stream data still leads one packet in eight while both wait, so a flood of
    /// datagrams slows a stream down but cannot stop it.
    /// </summary>
    First,

    /// <summary>Datagrams and stream data take turns at the front of each packet, so neither can starve the other.</summary>
    Fair,
}
