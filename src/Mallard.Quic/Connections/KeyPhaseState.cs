using Mallard.Quic.Crypto;

namespace Mallard.Quic.Connections;

/// <summary>
/// The 1-RTT keys and their updates (RFC 9001 section 6): the secrets of both directions, the key
/// phase bit each direction uses, the next receive keys derived ahead for a peer's update, the
/// previous ones kept for packets delayed across it, and what allows this endpoint to start an
/// update of its own (its current phase acknowledged, section 6.1). The keys in use are those of
/// the application <see cref="PacketSpace"/>, which this state replaces as the phases change.
/// </summary>
internal sealed class KeyPhaseState : IDisposable
{
    private readonly CipherSuite _suite;
    private readonly uint _version;
    private readonly PacketSpace _space;
    private readonly byte[] _sendHeaderKey;
    private readonly byte[] _receiveHeaderKey;
    private byte[] _sendSecret;
    private byte[] _receiveSecret;
    private PacketProtection? _previousReceiveKeys;
    private PacketProtection? _nextReceiveKeys;
    private byte[]? _nextReceiveSecret;
    private ulong _firstReceivedInPhase;
    private ulong _firstSentInPhase;
    private bool _currentPhaseAcknowledged = true;
    private ulong _packetsSentInPhase;

    /// <summary>Installs the first 1-RTT keys from the handshake's application traffic secrets into <paramref name="space"/>.</summary>
    public KeyPhaseState(CipherSuite suite, uint version, byte[] sendSecret, byte[] receiveSecret, PacketSpace space)
    {
        _suite = suite;
        _version = version;
        _space = space;
        _sendSecret = sendSecret;
        _receiveSecret = receiveSecret;
        PacketKeys sendKeys = PacketKeys.FromSecret(suite, sendSecret, version);
        PacketKeys receiveKeys = PacketKeys.FromSecret(suite, receiveSecret, version);
        _sendHeaderKey = sendKeys.HeaderKey; // header protection keys never change (section 6)
        _receiveHeaderKey = receiveKeys.HeaderKey;
        space.SendKeys = new PacketProtection(sendKeys);
        space.ReceiveKeys = new PacketProtection(receiveKeys);
    }

    /// <summary>The key phase bit this endpoint sends with.</summary>
    public int SendPhase { get; private set; }

    /// <summary>The key phase bit of the peer's newest keys.</summary>
    public int ReceivePhase { get; private set; }

    /// <summary>Updates completed: the peer's packets moved to the next phase, whether it started the update or answered this endpoint's.</summary>
    public int CompletedUpdates { get; private set; }

    /// <summary>Whether this endpoint may start an update: both directions in one phase, and a packet of this phase acknowledged (section 6.1).</summary>
    public bool CanUpdate => SendPhase == ReceivePhase && _currentPhaseAcknowledged;

    /// <summary>
    /// The keys that open a 1-RTT packet with key phase bit <paramref name="phase"/> and number
    /// <paramref name="packetNumber"/>: the current ones, the previous ones for a packet older than
    /// the last update, or the next ones (derived once, kept) for a peer's update — in which case
    /// <paramref name="nextPhase"/> is set, and <see cref="OnNextPhaseOpened"/> follows once the packet authenticates.
    /// </summary>
    public PacketProtection ReceiveKeysFor(int phase, ulong packetNumber, out bool nextPhase)
    {
        nextPhase = false;
        if (phase == ReceivePhase)
        {
            return _space.ReceiveKeys!;
        }

        if (_previousReceiveKeys is not null && packetNumber < _firstReceivedInPhase)
        {
            return _previousReceiveKeys;
        }

        if (_nextReceiveKeys is null)
        {
            (PacketKeys keys, byte[] secret) = PacketKeys.NextPhase(_suite, _receiveSecret, _receiveHeaderKey, _version);
            _nextReceiveKeys = new PacketProtection(keys);
            _nextReceiveSecret = secret;
        }

        nextPhase = true;
        return _nextReceiveKeys;
    }

    /// <summary>A packet of the peer's next phase authenticated: follow it, and answer with an update of this endpoint's own (section 6.2).</summary>
    public void OnNextPhaseOpened(ulong packetNumber)
    {
        _previousReceiveKeys?.Dispose();
        _previousReceiveKeys = _space.ReceiveKeys;
        _space.ReceiveKeys = _nextReceiveKeys;
        _receiveSecret = _nextReceiveSecret!;
        _nextReceiveKeys = null;
        _nextReceiveSecret = null;
        ReceivePhase ^= 1;
        _firstReceivedInPhase = packetNumber;
        CompletedUpdates++;
        if (SendPhase != ReceivePhase)
        {
            AdvanceSend();
        }
    }

    /// <summary>Moves this endpoint's sending to the next phase (section 6.1); check <see cref="CanUpdate"/> first when starting one.</summary>
    public void AdvanceSend()
    {
        (PacketKeys keys, byte[] secret) = PacketKeys.NextPhase(_suite, _sendSecret, _sendHeaderKey, _version);
        _space.SendKeys?.Dispose();
        _space.SendKeys = new PacketProtection(keys);
        _sendSecret = secret;
        SendPhase ^= 1;
        _firstSentInPhase = _space.NextPacketNumber;
        _currentPhaseAcknowledged = false;
        _packetsSentInPhase = 0;
    }

    /// <summary>A 1-RTT packet was sent; true when <paramref name="updateInterval"/> packets (0: never) have gone in this phase.</summary>
    public bool OnPacketSent(ulong updateInterval) => ++_packetsSentInPhase >= updateInterval && updateInterval > 0;

    /// <summary>A 1-RTT packet was acknowledged: one of the current phase allows the next update.</summary>
    public void OnPacketAcknowledged(ulong packetNumber)
    {
        if (packetNumber >= _firstSentInPhase)
        {
            _currentPhaseAcknowledged = true;
        }
    }

    public void Dispose()
    {
        _previousReceiveKeys?.Dispose();
        _nextReceiveKeys?.Dispose();
    }
}
