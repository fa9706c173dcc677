namespace Mallard.Quic;

/// <summary>What a listener did with the 0-RTT early data clients offered (RFC 9001 section 4.6, RFC 8446 section 8).</summary>
/// <param name="Accepted">Early data accepted.</param>
/// <param name="RefusedAsReplay">Refused: the same ClientHello's early data was accepted before (a replay).</param>
/// <param name="RefusedAsStale">Refused: the ticket age the client reported was too far from the ticket's (a late replay, or a client clock far off).</param>
/// <param name="RefusedAsFull">Refused: the replay record was full.</param>
public readonly record struct QuicEarlyDataStatistics(long Accepted, long RefusedAsReplay, long RefusedAsStale, long RefusedAsFull);
