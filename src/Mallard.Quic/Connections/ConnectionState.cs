namespace Mallard.Quic.Connections;

/// <summary>Where a connection is in its life (RFC 9000 section 10).</summary>
internal enum ConnectionState
{
    /// <summary>The TLS handshake is running.</summary>
    Handshaking,

    /// <summary>The handshake is complete; application data flows.</summary>
    Established,

    /// <summary>This endpoint sent CONNECTION_CLOSE and waits out three PTOs (section 10.2.1).</summary>
    Closing,

    /// <summary>The peer sent CONNECTION_CLOSE; nothing more is sent (section 10.2.2).</summary>
    Draining,

    /// <summary>Gone; its state can be dropped.</summary>
    Closed,
}
