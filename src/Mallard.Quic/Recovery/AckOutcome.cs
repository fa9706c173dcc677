namespace Mallard.Quic.Recovery;

/// <summary>
/// What an ACK frame did: the packets it newly acknowledged and those now declared lost. The
/// lists belong to the <see cref="LossDetector"/> and are reused by its next call: read them at once.
/// </summary>
internal readonly record struct AckOutcome(IReadOnlyList<SentPacket> Acknowledged, IReadOnlyList<SentPacket> Lost, bool PersistentCongestion);
