using System.Security.Cryptography;
using Mallard.Quic.Crypto;
using Mallard.QuicLb.Invariants;

namespace Mallard.Quic.Tls;

/// <summary>
/// The TLS 1.3 key schedule (RFC 8446 section 7.1): early secret (from a resumption PSK, or
/// zeros), handshake secret from the (EC)DHE shared secret, master secret, the traffic secrets
/// that QUIC turns into packet keys, Finished verify data, PSK binders and resumption secrets
/// (section 4.6.1), and QUIC's key update ("quic ku", RFC 9001 section 6.1).
/// </summary>
internal sealed class TlsKeySchedule
{
    private readonly HashAlgorithmName _hash;
    private readonly int _hashLength;
    private readonly byte[] _emptyHash;
    private byte[]? _handshakeSecret;
    private byte[]? _masterSecret;

    /// <param name="suite">The cipher suite, whose hash the schedule uses.</param>
    /// <param name="preSharedKey">A resumption PSK (section 4.6.1), or null for a full handshake.</param>
    public TlsKeySchedule(CipherSuite suite, byte[]? preSharedKey = null)
    {
        Suite = suite;
        _hash = HkdfLabel.HashOf(suite);
        _hashLength = _hash == HashAlgorithmName.SHA384 ? 48 : 32;
        _emptyHash = Hash([]);
        EarlySecret = Extract(new byte[_hashLength], preSharedKey ?? new byte[_hashLength]);
    }

    public CipherSuite Suite { get; }

    /// <summary>The length of the suite's hash, and of every secret.</summary>
    public int HashLength => _hashLength;

    /// <summary>HKDF-Extract(0, PSK), with a zero PSK when none is used.</summary>
    public byte[] EarlySecret { get; }

    /// <summary>A PSK binder: HMAC with the finished key of binder_key ("res binder") over the truncated ClientHello's transcript hash.</summary>
    public byte[] Binder(ReadOnlySpan<byte> truncatedTranscriptHash) =>
        VerifyData(DeriveSecret(EarlySecret, "res binder", _emptyHash), truncatedTranscriptHash);

    /// <summary>client_early_traffic_secret over Hash(ClientHello): the 0-RTT packet keys (RFC 9001 section 5.1).</summary>
    public byte[] ClientEarlyTrafficSecret(ReadOnlySpan<byte> clientHelloTranscriptHash) =>
        DeriveSecret(EarlySecret, "c e traffic", clientHelloTranscriptHash);

    /// <summary>The PSK a NewSessionTicket with <paramref name="ticketNonce"/> stands for: HKDF-Expand-Label(resumption_master_secret, "resumption", nonce).</summary>
    public byte[] ResumptionPsk(ReadOnlySpan<byte> clientFinishedTranscriptHash, ReadOnlySpan<byte> ticketNonce) =>
        HkdfLabel.Expand(_hash, DeriveSecret(MasterSecret, "res master", clientFinishedTranscriptHash), "resumption", ticketNonce, _hashLength);

    /// <summary>The transcript hash of <paramref name="messages"/> with the suite's hash.</summary>
    public byte[] Hash(ReadOnlySpan<byte> messages) =>
        _hash == HashAlgorithmName.SHA384 ? SHA384.HashData(messages) : SHA256.HashData(messages);

    /// <summary>Derive-Secret(secret, label, transcript hash).</summary>
    public byte[] DeriveSecret(ReadOnlySpan<byte> secret, string label, ReadOnlySpan<byte> transcriptHash) =>
        HkdfLabel.Expand(_hash, secret, label, transcriptHash, _hashLength);

    /// <summary>Sets the handshake secret from the (EC)DHE shared secret and returns it.</summary>
    public byte[] SetSharedSecret(ReadOnlySpan<byte> sharedSecret)
    {
        _handshakeSecret = Extract(DeriveSecret(EarlySecret, "derived", _emptyHash), sharedSecret);
        _masterSecret = Extract(DeriveSecret(_handshakeSecret, "derived", _emptyHash), new byte[_hashLength]);
        return _handshakeSecret;
    }

    /// <summary>The master secret (after <see cref="SetSharedSecret"/>).</summary>
    public byte[] MasterSecret => _masterSecret ?? throw new InvalidOperationException("the shared secret is not set yet");

    /// <summary>client_ and server_handshake_traffic_secret over Hash(ClientHello..ServerHello).</summary>
    public (byte[] Client, byte[] Server) HandshakeTrafficSecrets(ReadOnlySpan<byte> helloTranscriptHash)
    {
        byte[] handshake = _handshakeSecret ?? throw new InvalidOperationException("the shared secret is not set yet");
        return (DeriveSecret(handshake, "c hs traffic", helloTranscriptHash), DeriveSecret(handshake, "s hs traffic", helloTranscriptHash));
    }

    /// <summary>client_ and server_application_traffic_secret_0 over Hash(ClientHello..server Finished).</summary>
    public (byte[] Client, byte[] Server) ApplicationTrafficSecrets(ReadOnlySpan<byte> serverFinishedTranscriptHash) =>
        (DeriveSecret(MasterSecret, "c ap traffic", serverFinishedTranscriptHash), DeriveSecret(MasterSecret, "s ap traffic", serverFinishedTranscriptHash));

    /// <summary>finished_key = HKDF-Expand-Label(BaseKey, "finished", "", Hash.length).</summary>
    public byte[] FinishedKey(ReadOnlySpan<byte> baseKey) => HkdfLabel.Expand(_hash, baseKey, "finished", default, _hashLength);

    /// <summary>Finished verify_data = HMAC(finished_key, transcript hash) (RFC 8446 section 4.4.4).</summary>
    public byte[] VerifyData(ReadOnlySpan<byte> baseKey, ReadOnlySpan<byte> transcriptHash)
    {
        byte[] key = FinishedKey(baseKey);
        return _hash == HashAlgorithmName.SHA384 ? HMACSHA384.HashData(key, transcriptHash) : HMACSHA256.HashData(key, transcriptHash);
    }

    /// <summary>The next 1-RTT secret after a QUIC key update (RFC 9001 section 6.1; "quicv2 ku" for QUIC v2).</summary>
    public byte[] NextTrafficSecret(ReadOnlySpan<byte> secret, uint version = QuicVersion.V1) =>
        HkdfLabel.Expand(_hash, secret, version == QuicVersion.V2 ? "quicv2 ku" : "quic ku", default, _hashLength);

    private byte[] Extract(ReadOnlySpan<byte> salt, ReadOnlySpan<byte> keyMaterial)
    {
        byte[] output = new byte[_hashLength];
        HKDF.Extract(_hash, keyMaterial, salt, output);
        return output;
    }
}
