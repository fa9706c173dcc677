using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Mallard.Quic.Crypto;

namespace Mallard.Quic.Tls;

/// <summary>
/// The server side of the TLS 1.3 handshake for QUIC: answers the ClientHello (with a
/// HelloRetryRequest when the client's key share is for a group it does not accept), sends
/// ServerHello, EncryptedExtensions, Certificate, CertificateVerify and Finished, and checks the
/// client's Finished.
/// </summary>
internal sealed class TlsServer : TlsHandshake
{
    private readonly TlsServerOptions _options;
    private State _state = State.ClientHello;
    private ushort? _retrySuite;
    private byte[]? _expectedClientFinished;
    private bool _clientResumes;
    private X509Certificate2? _certificate;

    public TlsServer(TlsServerOptions options) => _options = options;

    private enum State
    {
        ClientHello,
        SecondClientHello,
        ClientFinished,
        Done,
    }

    /// <summary>The server name the client asked for (SNI), if any.</summary>
    public string? RequestedServerName { get; private set; }

    protected override bool Process(EncryptionLevel level, HandshakeType type, ReadOnlySpan<byte> message)
    {
        bool expected = _state switch
        {
            State.ClientHello or State.SecondClientHello => level == EncryptionLevel.Initial && type == HandshakeType.ClientHello,
            State.ClientFinished => level == EncryptionLevel.Handshake && type == HandshakeType.Finished,
            _ => false,
        };
        if (!expected)
        {
            return Fail(TlsAlert.UnexpectedMessage, $"{type} at {level} was not expected");
        }

        return _state == State.ClientFinished ? OnClientFinished(message) : OnClientHello(message);
    }

    private bool OnClientHello(ReadOnlySpan<byte> message)
    {
        ClientHello? hello = ClientHello.TryParse(message, out TlsAlert alert);
        if (hello is null)
        {
            return Fail(alert, "malformed ClientHello");
        }

        if (hello.SupportedVersions() is not { } versions || !versions.Contains((ushort)0x0304))
        {
            return Fail(TlsAlert.ProtocolVersion, "the client does not offer TLS 1.3");
        }

        ushort suite = _retrySuite ?? _options.CipherSuites.FirstOrDefault(s => hello.CipherSuites.Contains(s));
        if (suite == 0 || !hello.CipherSuites.Contains(suite))
        {
            return Fail(TlsAlert.HandshakeFailure, "no common cipher suite");
        }

        if (hello.Find(TlsExtension.QuicTransportParameters) is not TlsExtension parameters)
        {
            return Fail(TlsAlert.MissingExtension, "the client sent no quic_transport_parameters");
        }

        IReadOnlyList<string>? offered = hello.ApplicationProtocols();
        string? protocol = offered?.FirstOrDefault(p => _options.ApplicationProtocols.Contains(p));
        if (protocol is null)
        {
            // QUIC requires ALPN; no overlap is no_application_protocol (RFC 9001 section 8.1).
            return Fail(TlsAlert.NoApplicationProtocol, $"none of the client's protocols ({string.Join(", ", offered ?? [])}) is served here");
        }

        if (hello.KeyShares() is not { } shares)
        {
            return Fail(TlsAlert.MissingExtension, "the client sent no key_share");
        }

        (ushort group, byte[] key)? share = shares.Where(s => _options.Groups.Contains(s.Group)).Select(s => ((ushort, byte[])?)s).FirstOrDefault();
        if (share is null)
        {
            ushort? retryGroup = hello.SupportedGroups()?.Where(g => _options.Groups.Contains(g)).Select(g => (ushort?)g).FirstOrDefault();
            if (retryGroup is null || _state == State.SecondClientHello)
            {
                return Fail(TlsAlert.HandshakeFailure, "no common key exchange group");
            }

            return SendHelloRetryRequest(message, (ushort)suite, retryGroup.Value);
        }

        if (hello.Find(TlsExtension.EarlyData) is TlsExtension earlyData)
        {
            if (earlyData.Data.Length != 0 || _state == State.SecondClientHello)
            {
                // Empty, and never in the ClientHello that answers a HelloRetryRequest (RFC 8446 sections 4.1.2 and 4.2.10).
                return Fail(TlsAlert.IllegalParameter, "early_data is malformed or follows a HelloRetryRequest");
            }

            EarlyDataOffered = true;
        }

        byte[]? preSharedKey = null;
        if (hello.PreSharedKey(out bool malformedPsk) is { } offeredPsk)
        {
            SessionTicketSealer.State? resumed = AcceptedPreSharedKey(hello, message, offeredPsk, (CipherSuite)suite, protocol);
            if (Alert is not null)
            {
                return false;
            }

            preSharedKey = resumed?.PreSharedKey;
            EarlyDataAccepted = resumed is not null && EarlyDataOffered && AcceptsEarlyData(resumed, offeredPsk.ObfuscatedAge, offeredPsk.Binder, (CipherSuite)suite);
        }
        else if (malformedPsk)
        {
            return Fail(TlsAlert.IllegalParameter, "pre_shared_key is malformed or not the last extension");
        }

        RequestedServerName = hello.ServerName();
        try
        {
            _certificate = _options.CertificateSelector?.Invoke(RequestedServerName) ?? _options.Certificate;
        }
        catch (Exception failure) when (failure is not OutOfMemoryException)
        {
            return Fail(TlsAlert.InternalError, $"the certificate selector failed for \"{RequestedServerName}\": {failure.Message}");
        }

        ClientRandom = hello.Random;
        _clientResumes = hello.PskKeyExchangeModes()?.Contains(TlsExtension.PskDheKe) == true;
        using var exchange = KeyExchange.Create(share.Value.group);
        byte[]? shared = exchange.SharedSecret(share.Value.key);
        if (shared is null)
        {
            return Fail(TlsAlert.IllegalParameter, "the client's key share is not a valid public key");
        }

        Suite = (CipherSuite)suite;
        Schedule = new TlsKeySchedule(Suite.Value, preSharedKey);
        Schedule.SetSharedSecret(shared);
        IsResumed = preSharedKey is not null;
        ApplicationProtocol = protocol;
        PeerTransportParameters = parameters.Data;
        AddToTranscript(message);
        if (EarlyDataAccepted)
        {
            ClientEarlySecret = Schedule.ClientEarlyTrafficSecret(TranscriptHash()); // over the ClientHello alone
            EarlySuite = Suite;
        }

        var serverHello = new ServerHello
        {
            Random = RandomNumberGenerator.GetBytes(32),
            LegacySessionIdEcho = hello.LegacySessionId,
            CipherSuite = suite,
            Extensions =
            [
                Extension(TlsExtension.SupportedVersions, w => w.UInt16(0x0304)),
                Extension(TlsExtension.KeyShare, w => { w.UInt16(exchange.Group); w.Vector(2, k => k.Bytes(exchange.PublicKey)); }),
                .. IsResumed ? (TlsExtension[])[Extension(TlsExtension.PreSharedKey, w => w.UInt16(0))] : [], // selected_identity 0
            ],
        };
        Send(EncryptionLevel.Initial, serverHello.Encode());
        HandshakeSecrets = Schedule.HandshakeTrafficSecrets(TranscriptHash());

        var encryptedExtensions = new EncryptedExtensions
        {
            Extensions =
            [
                AlpnExtension([protocol]),
                new TlsExtension(TlsExtension.QuicTransportParameters, _options.TransportParameters),
                .. EarlyDataAccepted ? (TlsExtension[])[new TlsExtension(TlsExtension.EarlyData, [])] : [],
            ],
        };
        Send(EncryptionLevel.Handshake, encryptedExtensions.Encode());
        if (!IsResumed)
        {
            // A resumed session was authenticated by the certificate of the handshake that issued the ticket (RFC 8446 section 2.2).
            Send(EncryptionLevel.Handshake, CertificateMessage.Encode([_certificate!.RawData]));
            if (!SendCertificateVerify())
            {
                return false;
            }
        }

        Send(EncryptionLevel.Handshake, HandshakeSignature.FinishedMessage(Schedule.VerifyData(HandshakeSecrets.Value.Server, TranscriptHash())));
        byte[] transcriptHash = TranscriptHash();
        ApplicationSecrets = Schedule.ApplicationTrafficSecrets(transcriptHash);
        _expectedClientFinished = Schedule.VerifyData(HandshakeSecrets.Value.Client, transcriptHash);
        _state = State.ClientFinished;
        return true;
    }

    /// <summary>
    /// The state of the offered ticket when this server can resume it: a ticket it sealed, not
    /// expired, for a suite with the negotiated suite's hash and the same ALPN protocol, offered
    /// with psk_dhe_ke and a binder that verifies (RFC 8446 section 4.2.11). A ticket that cannot
    /// be used means a full handshake; a binder that does not verify is decrypt_error.
    /// </summary>
    private SessionTicketSealer.State? AcceptedPreSharedKey(ClientHello hello, ReadOnlySpan<byte> message, (byte[] Ticket, uint ObfuscatedAge, byte[] Binder, int BindersLength) offered, CipherSuite suite, string protocol)
    {
        if (_options.SessionTickets is not SessionTicketSealer sealer || hello.PskKeyExchangeModes() is not { } modes || !modes.Contains(TlsExtension.PskDheKe)
            || sealer.TryOpen(offered.Ticket) is not { } state)
        {
            return null;
        }

        long age = _options.NowMilliseconds() - state.IssuedAtMilliseconds;
        if (age < 0 || age > state.LifetimeSeconds * 1000L || HkdfLabel.HashOf(state.Suite) != HkdfLabel.HashOf(suite) || state.ApplicationProtocol != protocol)
        {
            return null;
        }

        var schedule = new TlsKeySchedule(suite, state.PreSharedKey);
        byte[] expected = schedule.Binder(TranscriptHashWith(schedule, message[..^offered.BindersLength]));
        if (!CryptographicOperations.FixedTimeEquals(offered.Binder, expected))
        {
            Fail(TlsAlert.DecryptError, "the PSK binder does not verify");
            return null;
        }

        return state;
    }

    /// <summary>
    /// Whether the early data of a resumed ClientHello is accepted (RFC 8446 section 4.2.10, RFC
    /// 9001 section 4.6.2): this server takes 0-RTT, the ticket allowed it, the suite is the
    /// ticket's, no limit the ticket remembered has been lowered since (RFC 9000 section 7.4.1),
    /// and the replay guard finds the ClientHello fresh and new (RFC 8446 section 8) — checked
    /// last, since it records the ClientHello. A refusal still resumes, without 0-RTT.
    /// </summary>
    private bool AcceptsEarlyData(SessionTicketSealer.State ticket, uint obfuscatedAge, byte[] binder, CipherSuite suite)
    {
        if (_options.EarlyDataLimits is not ulong[] current || _options.ReplayGuard is not EarlyDataReplayGuard guard || ticket.EarlyDataLimits is not ulong[] remembered
            || ticket.Suite != suite || remembered.Length != current.Length)
        {
            return false;
        }

        for (int i = 0; i < current.Length; i++)
        {
            if (current[i] < remembered[i])
            {
                return false;
            }
        }

        long now = _options.NowMilliseconds();
        long clientAge = unchecked(obfuscatedAge - ticket.AgeAdd);
        return guard.TryAccept(binder, clientAge, now - ticket.IssuedAtMilliseconds, now);
    }

    /// <summary>One NewSessionTicket after the handshake, when this server issues tickets (RFC 8446 section 4.6.1).</summary>
    private void IssueSessionTicket()
    {
        if (_options.SessionTickets is not SessionTicketSealer sealer || _options.SessionTicketLifetimeSeconds == 0 || !_clientResumes)
        {
            return; // no tickets here, or a client that said it cannot use them (section 4.2.9)
        }

        byte[] nonce = [0]; // one ticket per connection: the nonce only has to be unique within it
        byte[] psk = Schedule!.ResumptionPsk(TranscriptHash(), nonce);
        uint ageAdd = BitConverter.ToUInt32(RandomNumberGenerator.GetBytes(4));
        uint lifetime = Math.Min(_options.SessionTicketLifetimeSeconds, NewSessionTicketMessage.MaxLifetimeSeconds);
        ulong[]? earlyDataLimits = _options.ReplayGuard is null ? null : _options.EarlyDataLimits;
        byte[] ticket = sealer.Seal(new SessionTicketSealer.State(Suite!.Value, _options.NowMilliseconds(), lifetime, ageAdd, psk, ApplicationProtocol!, earlyDataLimits));
        SendAfterHandshake(new NewSessionTicketMessage(lifetime, ageAdd, nonce, ticket, AllowsEarlyData: earlyDataLimits is not null).Encode());
    }

    private bool SendHelloRetryRequest(ReadOnlySpan<byte> firstHello, ushort suite, ushort group)
    {
        AddToTranscript(firstHello);
        ReplaceTranscriptWithMessageHash((CipherSuite)suite);
        var retry = new ServerHello
        {
            Random = ServerHello.HelloRetryRequestRandom.ToArray(),
            CipherSuite = suite,
            Extensions =
            [
                Extension(TlsExtension.SupportedVersions, w => w.UInt16(0x0304)),
                Extension(TlsExtension.KeyShare, w => w.UInt16(group)),
            ],
        };
        Send(EncryptionLevel.Initial, retry.Encode());
        _retrySuite = suite;
        _state = State.SecondClientHello;
        return true;
    }

    private bool SendCertificateVerify()
    {
        byte[] transcriptHash = TranscriptHash();
        using ECDsa? ecdsa = _certificate!.GetECDsaPrivateKey();
        if (ecdsa is not null)
        {
            bool p384 = ecdsa.KeySize == 384;
            byte[] signature = HandshakeSignature.SignEcdsa(ecdsa, server: true, transcriptHash, p384 ? HashAlgorithmName.SHA384 : HashAlgorithmName.SHA256);
            Send(EncryptionLevel.Handshake, CertificateVerifyMessage.Encode(p384 ? HandshakeSignature.EcdsaSecp384r1Sha384 : HandshakeSignature.EcdsaSecp256r1Sha256, signature));
            return true;
        }

        using RSA? rsa = _certificate!.GetRSAPrivateKey();
        if (rsa is null)
        {
            return Fail(TlsAlert.InternalError, "the server certificate has no ECDSA or RSA private key");
        }

        byte[] rsaSignature = rsa.SignData(HandshakeSignature.SignedContent(true, transcriptHash), HashAlgorithmName.SHA256, RSASignaturePadding.Pss);
        Send(EncryptionLevel.Handshake, CertificateVerifyMessage.Encode(HandshakeSignature.RsaPssRsaeSha256, rsaSignature));
        return true;
    }

    private bool OnClientFinished(ReadOnlySpan<byte> message)
    {
        if (!HandshakeSignature.IsFinished(message, _expectedClientFinished))
        {
            return Fail(TlsAlert.DecryptError, "the client's Finished does not match the transcript");
        }

        AddToTranscript(message);
        IsComplete = true;
        _state = State.Done;
        IssueSessionTicket();
        return true;
    }
}
