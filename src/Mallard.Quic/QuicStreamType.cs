namespace Mallard.Quic;

/// <summary>The two kinds of QUIC stream (RFC 9000 section 2.1).</summary>
public enum QuicStreamType
{
    /// <summary>Data flows only from the side that opened the stream.</summary>
    Unidirectional,

    /// <summary>Data flows both ways.</summary>
    Bidirectional,
}
