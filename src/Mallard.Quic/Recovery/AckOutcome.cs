namespace Mallard.Quic.Recovery;

/// <summary>What an ACK frame did: the packets it newly acknowledged and those now declared lost.</summary>
internal sealed record AckOutcome(IReadOnlyList<SentPacket> Acknowledged, IReadOnlyList<SentPacket> Lost, bool PersistentCongestion);
