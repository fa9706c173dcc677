using Mallard.Quic.Crypto;

namespace Mallard.Quic.Tls;

/// <summary>
/// The part of a TLS 1.3 handshake that QUIC drives (RFC 9001 section 4): handshake messages in,
/// handshake messages out, per encryption level, and the secrets for each level. No records, no
/// sockets, no clocks. A protocol error ends the handshake with the alert to send.
/// </summary>
internal abstract class TlsHandshake : IDisposable
{
    /// <summary>The cipher suites offered and accepted, in preference order.</summary>
    public static readonly ushort[] SupportedCipherSuites = [(ushort)CipherSuite.Aes128GcmSha256, (ushort)CipherSuite.Aes256GcmSha384, (ushort)CipherSuite.ChaCha20Poly1305Sha256];

    /// <summary>The signature schemes offered and accepted.</summary>
    public static readonly ushort[] SupportedSignatureSchemes = [HandshakeSignature.EcdsaSecp256r1Sha256, HandshakeSignature.EcdsaSecp384r1Sha384, HandshakeSignature.RsaPssRsaeSha256];

    private readonly Dictionary<EncryptionLevel, List<byte>> _received = new() { [EncryptionLevel.Initial] = [], [EncryptionLevel.Handshake] = [], [EncryptionLevel.OneRtt] = [] };
    private readonly Dictionary<EncryptionLevel, List<byte>> _output = new() { [EncryptionLevel.Initial] = [], [EncryptionLevel.Handshake] = [], [EncryptionLevel.OneRtt] = [] };
    private readonly List<byte> _transcript = [];

    /// <summary>The negotiated cipher suite, once known.</summary>
    public CipherSuite? Suite { get; protected set; }

    /// <summary>Handshake-level traffic secrets, once the hellos are exchanged.</summary>
    public (byte[] Client, byte[] Server)? HandshakeSecrets { get; protected set; }

    /// <summary>1-RTT traffic secrets, once the server's Finished is sent or received.</summary>
    public (byte[] Client, byte[] Server)? ApplicationSecrets { get; protected set; }

    /// <summary>Whether the handshake resumed a session with a ticket's PSK (RFC 8446 section 2.2), skipping the certificate.</summary>
    public bool IsResumed { get; protected set; }

    /// <summary>client_early_traffic_secret: the client offered 0-RTT (client), or the server accepted it (server).</summary>
    public byte[]? ClientEarlySecret { get; protected set; }

    /// <summary>The cipher suite of the 0-RTT keys: the ticket's (RFC 8446 section 4.2.10).</summary>
    public CipherSuite? EarlySuite { get; protected set; }

    /// <summary>Client: sent early_data in its first ClientHello. Server: received it.</summary>
    public bool EarlyDataOffered { get; protected set; }

    /// <summary>The server accepted the early data (its EncryptedExtensions carry early_data).</summary>
    public bool EarlyDataAccepted { get; protected set; }

    /// <summary>Client: early data was offered and the server refused it (a HelloRetryRequest, or EncryptedExtensions without early_data).</summary>
    public bool EarlyDataRejected { get; protected set; }

    /// <summary>Whether both Finished messages are done.</summary>
    public bool IsComplete { get; protected set; }

    /// <summary>The negotiated ALPN protocol, if any.</summary>
    public string? ApplicationProtocol { get; protected set; }

    /// <summary>The peer's quic_transport_parameters extension body.</summary>
    public byte[]? PeerTransportParameters { get; protected set; }

    /// <summary>The fatal alert, once the handshake has failed.</summary>
    public TlsAlert? Alert { get; private set; }

    /// <summary>The failure is a QUIC PROTOCOL_VIOLATION rather than a TLS alert (RFC 9001 section 4.6.1's early_data size).</summary>
    public bool IsProtocolViolation { get; private set; }

    /// <summary>Why it failed, for logs and CONNECTION_CLOSE reason phrases.</summary>
    public string? FailureReason { get; private set; }

    /// <summary>The ClientHello's random, which names the connection in a key log.</summary>
    public byte[]? ClientRandom { get; protected set; }

    protected TlsKeySchedule? Schedule { get; set; }

    /// <summary>
    /// The secrets known so far in the SSLKEYLOGFILE format that Wireshark and tshark read
    /// (one "LABEL client_random secret" line each), for decrypting captures.
    /// </summary>
    public IEnumerable<string> KeyLogLines()
    {
        if (ClientRandom is null)
        {
            yield break;
        }

        string random = Convert.ToHexStringLower(ClientRandom);
        if (ClientEarlySecret is byte[] early)
        {
            yield return $"CLIENT_EARLY_TRAFFIC_SECRET {random} {Convert.ToHexStringLower(early)}";
        }

        if (HandshakeSecrets is (byte[] clientHandshake, byte[] serverHandshake))
        {
            yield return $"CLIENT_HANDSHAKE_TRAFFIC_SECRET {random} {Convert.ToHexStringLower(clientHandshake)}";
            yield return $"SERVER_HANDSHAKE_TRAFFIC_SECRET {random} {Convert.ToHexStringLower(serverHandshake)}";
        }

        if (ApplicationSecrets is (byte[] clientApplication, byte[] serverApplication))
        {
            yield return $"CLIENT_TRAFFIC_SECRET_0 {random} {Convert.ToHexStringLower(clientApplication)}";
            yield return $"SERVER_TRAFFIC_SECRET_0 {random} {Convert.ToHexStringLower(serverApplication)}";
        }
    }

    /// <summary>Takes the handshake bytes queued for <paramref name="level"/> (to send in CRYPTO frames).</summary>
    public byte[] TakeOutput(EncryptionLevel level)
    {
        byte[] bytes = [.. _output[level]];
        _output[level].Clear();
        return bytes;
    }

    /// <summary>Feeds CRYPTO data received at <paramref name="level"/>, in order; returns false once the handshake has failed.</summary>
    public bool Receive(EncryptionLevel level, ReadOnlySpan<byte> data)
    {
        if (Alert is not null)
        {
            return false;
        }

        List<byte> buffer = _received[level];
        buffer.AddRange(data);
        while (true)
        {
            byte[] pending = [.. buffer];
            if (!HandshakeFraming.TryRead(pending, out HandshakeType type, out ReadOnlySpan<byte> message, out int consumed, out bool tooLarge))
            {
                return !tooLarge || Fail(TlsAlert.DecodeError, "a handshake message is larger than 64 KiB");
            }

            buffer.RemoveRange(0, consumed);
            if (type == HandshakeType.KeyUpdate)
            {
                // QUIC has its own key update; the TLS message is forbidden (RFC 9001 section 6).
                return Fail(TlsAlert.UnexpectedMessage, "KeyUpdate is not allowed in QUIC");
            }

            if (!Process(level, type, message))
            {
                return false;
            }
        }
    }

    public virtual void Dispose()
    {
    }

    /// <summary>Handles one whole message; returns false after calling <see cref="Fail"/>.</summary>
    protected abstract bool Process(EncryptionLevel level, HandshakeType type, ReadOnlySpan<byte> message);

    protected bool Fail(TlsAlert alert, string reason)
    {
        Alert ??= alert;
        FailureReason ??= reason;
        return false;
    }

    protected bool FailWithProtocolViolation(string reason)
    {
        IsProtocolViolation = Alert is null;
        return Fail(TlsAlert.IllegalParameter, reason);
    }

    /// <summary>Queues a message and adds it to the transcript.</summary>
    protected void Send(EncryptionLevel level, byte[] message)
    {
        _output[level].AddRange(message);
        _transcript.AddRange(message);
    }

    /// <summary>Queues a post-handshake message (NewSessionTicket), which is not part of the transcript.</summary>
    protected void SendAfterHandshake(byte[] message) => _output[EncryptionLevel.OneRtt].AddRange(message);

    protected void AddToTranscript(ReadOnlySpan<byte> message) => _transcript.AddRange(message);

    protected byte[] TranscriptHash() => Schedule!.Hash([.. _transcript]);

    /// <summary>The hash, with <paramref name="schedule"/>'s hash function, of the transcript so far followed by <paramref name="partialMessage"/>: what a PSK binder covers.</summary>
    protected byte[] TranscriptHashWith(TlsKeySchedule schedule, ReadOnlySpan<byte> partialMessage) => schedule.Hash([.. _transcript, .. partialMessage]);

    /// <summary>
    /// After a HelloRetryRequest, the first ClientHello is replaced in the transcript by a
    /// message_hash message carrying its hash (RFC 8446 section 4.4.1).
    /// </summary>
    protected void ReplaceTranscriptWithMessageHash(CipherSuite suite)
    {
        var schedule = new TlsKeySchedule(suite);
        byte[] hash = schedule.Hash([.. _transcript]);
        _transcript.Clear();
        _transcript.AddRange([254, 0, 0, (byte)hash.Length, .. hash]);
    }

    protected static TlsExtension Extension(ushort type, Action<TlsWriter> body)
    {
        var writer = new TlsWriter();
        body(writer);
        return new TlsExtension(type, writer.ToArray());
    }

    protected static TlsExtension AlpnExtension(IEnumerable<string> protocols) => Extension(TlsExtension.Alpn, w => w.Vector(2, list =>
    {
        foreach (string protocol in protocols)
        {
            list.Vector(1, p => p.Bytes(System.Text.Encoding.ASCII.GetBytes(protocol)));
        }
    }));
}
