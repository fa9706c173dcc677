namespace Mallard.Quic.Recovery;

/// <summary>
/// One frame a sent packet carried, as much as the connection needs to confirm it on
/// acknowledgment or to repair it on loss (RFC 9000 section 13.3): data ranges are resent,
/// limits and control frames are sent again with their current values.
/// </summary>
/// <param name="Kind">The frame.</param>
/// <param name="Id">The stream ID, the connection ID sequence number or the largest acknowledged packet.</param>
/// <param name="Offset">Where the data starts (CRYPTO, STREAM).</param>
/// <param name="Length">How much data (CRYPTO, STREAM).</param>
/// <param name="Fin">Whether a STREAM frame carried the FIN.</param>
internal readonly record struct SentFrame(SentFrameKind Kind, ulong Id = 0, ulong Offset = 0, int Length = 0, bool Fin = false);
