using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Mallard.Quic.Crypto;

namespace Mallard.Quic.Tls;

/// <summary>
/// The client side of the TLS 1.3 handshake for QUIC (RFC 8446 section 2, RFC 9001 section 4):
/// ClientHello, HelloRetryRequest, ServerHello, EncryptedExtensions, Certificate,
/// CertificateVerify and Finished, ending with the client's Finished.
/// </summary>
internal sealed class TlsClient : TlsHandshake
{
    private readonly TlsClientOptions _options;
    private readonly byte[] _random = RandomNumberGenerator.GetBytes(32);
    private KeyExchange _keyExchange;
    private State _state = State.ServerHello;
    private bool _retried;
    private ushort _retrySuite;
    private byte[]? _cookie;
    private byte[]? _serverCertificate;
    private X509Certificate2? _parsedServerCertificate;
    private SessionTicket? _offeredTicket;
    private byte[]? _resumptionTranscriptHash;

    public TlsClient(TlsClientOptions options)
    {
        _options = options;
        _keyExchange = KeyExchange.Create(options.Groups[0]);
        ClientRandom = _random;
        SessionTicket? ticket = options.SessionTicket;
        // Only to the server name it came from (RFC 8446 section 4.6.1 asks the SNI to match): a
        // ticket shown to another name would tell that server where this client has been.
        if (ticket is not null && options.CipherSuites.Contains((ushort)ticket.Suite) && options.NowMilliseconds() < ticket.ExpiresAtMilliseconds
            && ticket.ServerName == options.ServerName
            && (ticket.ApplicationProtocol is null || options.ApplicationProtocols.Contains(ticket.ApplicationProtocol)))
        {
            _offeredTicket = ticket;
        }

        Send(EncryptionLevel.Initial, EncodeClientHello());
        if (EarlyDataOffered && _offeredTicket is SessionTicket early)
        {
            // 0-RTT keys come from the ticket's PSK and the ClientHello alone (RFC 8446 section 7.1).
            var schedule = new TlsKeySchedule(early.Suite, early.PreSharedKey);
            ClientEarlySecret = schedule.ClientEarlyTrafficSecret(TranscriptHashWith(schedule, default));
            EarlySuite = early.Suite;
        }
    }

    /// <summary>The newest ticket the server issued on this connection, ready to resume with; null before one arrives.</summary>
    public SessionTicket? ReceivedTicket { get; private set; }

    private enum State
    {
        ServerHello,
        EncryptedExtensions,
        Certificate,
        CertificateVerify,
        Finished,
        Done,
    }

    public override void Dispose()
    {
        _keyExchange.Dispose();
        _parsedServerCertificate?.Dispose();
    }

    protected override bool Process(EncryptionLevel level, HandshakeType type, ReadOnlySpan<byte> message)
    {
        if (level == EncryptionLevel.OneRtt && type == HandshakeType.NewSessionTicket && _state == State.Done)
        {
            return OnNewSessionTicket(message);
        }

        (EncryptionLevel expectedLevel, HandshakeType expectedType) = _state switch
        {
            State.ServerHello => (EncryptionLevel.Initial, HandshakeType.ServerHello),
            State.EncryptedExtensions => (EncryptionLevel.Handshake, HandshakeType.EncryptedExtensions),
            State.Certificate => (EncryptionLevel.Handshake, HandshakeType.Certificate),
            State.CertificateVerify => (EncryptionLevel.Handshake, HandshakeType.CertificateVerify),
            State.Finished => (EncryptionLevel.Handshake, HandshakeType.Finished),
            _ => (EncryptionLevel.OneRtt, HandshakeType.NewSessionTicket),
        };
        if (level != expectedLevel || type != expectedType)
        {
            return Fail(TlsAlert.UnexpectedMessage, $"{type} at {level} while waiting for {expectedType}");
        }

        return _state switch
        {
            State.ServerHello => OnServerHello(message),
            State.EncryptedExtensions => OnEncryptedExtensions(message),
            State.Certificate => OnCertificate(message),
            State.CertificateVerify => OnCertificateVerify(message),
            _ => OnFinished(message),
        };
    }

    private ClientHello BuildClientHello()
    {
        var extensions = new List<TlsExtension>();
        if (_options.ServerName is string name && !System.Net.IPAddress.TryParse(name, out _))
        {
            byte[] host = System.Text.Encoding.ASCII.GetBytes(name);
            extensions.Add(Extension(TlsExtension.ServerName, w => w.Vector(2, l => { l.Byte(0); l.Vector(2, h => h.Bytes(host)); })));
        }

        extensions.Add(Extension(TlsExtension.SupportedGroups, w => w.Vector(2, l => { foreach (ushort g in _options.Groups) { l.UInt16(g); } })));
        extensions.Add(Extension(TlsExtension.SignatureAlgorithms, w => w.Vector(2, l => { foreach (ushort s in SupportedSignatureSchemes) { l.UInt16(s); } })));
        extensions.Add(Extension(TlsExtension.SupportedVersions, w => w.Vector(1, l => l.UInt16(0x0304))));
        extensions.Add(Extension(TlsExtension.KeyShare, w => w.Vector(2, l => { l.UInt16(_keyExchange.Group); l.Vector(2, k => k.Bytes(_keyExchange.PublicKey)); })));
        extensions.Add(AlpnExtension(_options.ApplicationProtocols));
        extensions.Add(new TlsExtension(TlsExtension.QuicTransportParameters, _options.TransportParameters));
        if (_cookie is not null)
        {
            extensions.Add(new TlsExtension(44, _cookie));
        }

        // psk_dhe_ke, always: it tells the server this client resumes, so tickets are worth sending (RFC 8446 section 4.2.9).
        extensions.Add(Extension(TlsExtension.PskKeyExchangeModes, w => w.Vector(1, l => l.Byte(TlsExtension.PskDheKe))));
        if (_offeredTicket is { AllowsEarlyData: true } && _options.OfferEarlyData && !_retried)
        {
            // Never after a HelloRetryRequest (RFC 8446 section 4.1.2): 0-RTT is then already refused.
            extensions.Add(new TlsExtension(TlsExtension.EarlyData, []));
            EarlyDataOffered = true;
        }

        if (_offeredTicket is SessionTicket ticket)
        {
            // pre_shared_key last (section 4.2.11); its binder is written as zeros of the right length
            // here and overwritten in EncodeClientHello, since it covers the encoded message before it.
            int binderLength = new TlsKeySchedule(ticket.Suite).HashLength;
            extensions.Add(Extension(TlsExtension.PreSharedKey, w =>
            {
                w.Vector(2, identities =>
                {
                    identities.Vector(2, t => t.Bytes(ticket.Ticket));
                    Span<byte> age = stackalloc byte[4];
                    System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(age, ticket.ObfuscatedAge(_options.NowMilliseconds()));
                    identities.Bytes(age);
                });
                w.Vector(2, binders => binders.Vector(1, b => b.Bytes(new byte[binderLength])));
            }));
        }

        return new ClientHello { Random = _random, CipherSuites = [.. _options.CipherSuites], Extensions = extensions };
    }

    /// <summary>The ClientHello, its PSK binder (when a ticket is offered) computed over everything before the binders.</summary>
    private byte[] EncodeClientHello()
    {
        byte[] encoded = BuildClientHello().Encode();
        if (_offeredTicket is SessionTicket ticket)
        {
            var schedule = new TlsKeySchedule(ticket.Suite, ticket.PreSharedKey);
            int bindersLength = 2 + 1 + schedule.HashLength;
            byte[] binder = schedule.Binder(TranscriptHashWith(schedule, encoded.AsSpan(0, encoded.Length - bindersLength)));
            binder.CopyTo(encoded, encoded.Length - binder.Length);
        }

        return encoded;
    }

    private bool OnServerHello(ReadOnlySpan<byte> message)
    {
        ServerHello? hello = ServerHello.TryParse(message, out TlsAlert alert);
        if (hello is null)
        {
            return Fail(alert, "malformed ServerHello");
        }

        if (hello.SelectedVersion() != 0x0304)
        {
            return Fail(TlsAlert.ProtocolVersion, "the server did not select TLS 1.3");
        }

        if (!_options.CipherSuites.Contains(hello.CipherSuite) || hello.LegacySessionIdEcho.Length != 0)
        {
            return Fail(TlsAlert.IllegalParameter, $"the server chose cipher suite 0x{hello.CipherSuite:x4}, which was not offered");
        }

        var suite = (CipherSuite)hello.CipherSuite;
        if (hello.IsHelloRetryRequest)
        {
            return OnHelloRetryRequest(hello, suite, message);
        }

        // The ServerHello after a HelloRetryRequest keeps its cipher suite (RFC 8446 section 4.1.4);
        // the key share check below holds it to the group the HelloRetryRequest asked for.
        if (_retried && hello.CipherSuite != _retrySuite)
        {
            return Fail(TlsAlert.IllegalParameter, $"the ServerHello chose cipher suite 0x{hello.CipherSuite:x4} after the HelloRetryRequest chose 0x{_retrySuite:x4}");
        }

        if (hello.KeyShare() is not (ushort group, byte[] key) || group != _keyExchange.Group)
        {
            return Fail(TlsAlert.IllegalParameter, "the server's key share is not for the offered group");
        }

        byte[]? shared = _keyExchange.SharedSecret(key);
        if (shared is null)
        {
            return Fail(TlsAlert.IllegalParameter, "the server's key share is not a valid public key");
        }

        byte[]? preSharedKey = null;
        if (hello.Find(TlsExtension.PreSharedKey) is TlsExtension selected)
        {
            // The server resumed: it must have been offered a ticket, chosen identity 0, and kept the PSK's hash.
            if (_offeredTicket is not SessionTicket ticket || selected.Data is not [0, 0] || HkdfLabel.HashOf(ticket.Suite) != HkdfLabel.HashOf(suite))
            {
                return Fail(TlsAlert.IllegalParameter, "the server selected a pre-shared key that was not offered");
            }

            preSharedKey = ticket.PreSharedKey;
            IsResumed = true;
        }

        Suite = suite;
        Schedule = new TlsKeySchedule(suite, preSharedKey);
        Schedule.SetSharedSecret(shared);
        AddToTranscript(message);
        HandshakeSecrets = Schedule.HandshakeTrafficSecrets(TranscriptHash());
        _state = State.EncryptedExtensions;
        return true;
    }

    private bool OnHelloRetryRequest(ServerHello retry, CipherSuite suite, ReadOnlySpan<byte> message)
    {
        if (_retried)
        {
            return Fail(TlsAlert.UnexpectedMessage, "a second HelloRetryRequest");
        }

        if (retry.KeyShare() is not (ushort group, _) || !_options.Groups.Contains(group) || group == _keyExchange.Group)
        {
            return Fail(TlsAlert.IllegalParameter, "the HelloRetryRequest selects a group that was not offered or already shared");
        }

        _retried = true;
        _retrySuite = retry.CipherSuite;
        EarlyDataRejected = EarlyDataOffered; // a HelloRetryRequest refuses 0-RTT (RFC 8446 section 4.2.10)
        _cookie = retry.Find(44)?.Data;
        if (_offeredTicket is SessionTicket ticket && HkdfLabel.HashOf(ticket.Suite) != HkdfLabel.HashOf(suite))
        {
            _offeredTicket = null; // the PSK's hash no longer matches the suite (RFC 8446 section 4.1.4)
        }

        ReplaceTranscriptWithMessageHash(suite);
        AddToTranscript(message);
        _keyExchange.Dispose();
        _keyExchange = KeyExchange.Create(group);
        Send(EncryptionLevel.Initial, EncodeClientHello());
        return true;
    }

    private bool OnEncryptedExtensions(ReadOnlySpan<byte> message)
    {
        EncryptedExtensions? extensions = EncryptedExtensions.TryParse(message, out TlsAlert alert);
        if (extensions is null)
        {
            return Fail(alert, "malformed EncryptedExtensions");
        }

        string? protocol = extensions.SelectedApplicationProtocol();
        if (protocol is null || !_options.ApplicationProtocols.Contains(protocol))
        {
            return Fail(TlsAlert.NoApplicationProtocol, "the server selected no offered application protocol");
        }

        if (extensions.Find(TlsExtension.QuicTransportParameters) is not TlsExtension parameters)
        {
            return Fail(TlsAlert.MissingExtension, "the server sent no quic_transport_parameters");
        }

        if (extensions.Find(TlsExtension.EarlyData) is TlsExtension earlyData)
        {
            // Accepted 0-RTT: only what was offered, in the first ClientHello, for the PSK it resumed, with the ticket's suite (RFC 8446 section 4.2.10).
            if (!EarlyDataOffered || _retried || !IsResumed || earlyData.Data.Length != 0 || Suite != _offeredTicket!.Suite)
            {
                return Fail(TlsAlert.IllegalParameter, "the server accepted early data that was not offered or cannot be accepted");
            }

            EarlyDataAccepted = true;
        }
        else
        {
            EarlyDataRejected = EarlyDataOffered;
        }

        ApplicationProtocol = protocol;
        PeerTransportParameters = parameters.Data;
        AddToTranscript(message);
        _state = IsResumed ? State.Finished : State.Certificate; // a resumed session has no certificate (RFC 8446 section 2.2)
        return true;
    }

    private bool OnCertificate(ReadOnlySpan<byte> message)
    {
        List<byte[]>? chain = CertificateMessage.TryParse(message);
        if (chain is null)
        {
            return Fail(TlsAlert.DecodeError, "malformed or empty Certificate");
        }

        _serverCertificate = chain[0];
        if (!_options.SkipCertificateValidation || _options.ValidateCertificate is not null)
        {
            X509Certificate2[] certificates;
            try
            {
                certificates = [.. chain.Select(der => X509CertificateLoader.LoadCertificate(der))];
            }
            catch (CryptographicException)
            {
                return Fail(TlsAlert.BadCertificate, "a certificate could not be parsed");
            }

            _parsedServerCertificate = certificates[0];
            if (!_options.SkipCertificateValidation && !Validate(certificates, out string reason))
            {
                return Fail(TlsAlert.BadCertificate, "the server's certificate did not validate: " + reason);
            }
        }

        AddToTranscript(message);
        _state = State.CertificateVerify;
        return true;
    }

    private bool Validate(X509Certificate2[] certificates, out string reason)
    {
        if (_options.ValidateCertificate is not null)
        {
            reason = "the custom validator refused it";
            return _options.ValidateCertificate(certificates[0], certificates);
        }

        return ServerCertificateValidator.Validate(certificates[0], certificates, _options.ServerName, _options.ChainPolicy, out reason);
    }

    private bool OnCertificateVerify(ReadOnlySpan<byte> message)
    {
        if (!CertificateVerifyMessage.TryParse(message, out ushort scheme, out byte[] signature))
        {
            return Fail(TlsAlert.DecodeError, "malformed CertificateVerify");
        }

        AsymmetricAlgorithm? key;
        try
        {
            key = ServerKeyCache.KeyOf(_serverCertificate!, _parsedServerCertificate);
        }
        catch (CryptographicException)
        {
            return Fail(TlsAlert.BadCertificate, "the server's certificate could not be parsed");
        }

        bool verified = false;
        if (key is not null && SupportedSignatureSchemes.Contains(scheme))
        {
            lock (key) // shared by every connection to a server with this certificate
            {
                verified = HandshakeSignature.Verify(scheme, key, server: true, TranscriptHash(), signature);
            }
        }

        if (!verified)
        {
            return Fail(TlsAlert.DecryptError, "the CertificateVerify signature does not verify");
        }

        AddToTranscript(message);
        _state = State.Finished;
        return true;
    }

    private bool OnFinished(ReadOnlySpan<byte> message)
    {
        byte[] expected = Schedule!.VerifyData(HandshakeSecrets!.Value.Server, TranscriptHash());
        if (!HandshakeSignature.IsFinished(message, expected))
        {
            return Fail(TlsAlert.DecryptError, "the server's Finished does not match the transcript");
        }

        AddToTranscript(message);
        ApplicationSecrets = Schedule.ApplicationTrafficSecrets(TranscriptHash());
        Send(EncryptionLevel.Handshake, HandshakeSignature.FinishedMessage(Schedule.VerifyData(HandshakeSecrets.Value.Client, TranscriptHash())));
        _resumptionTranscriptHash = TranscriptHash(); // ClientHello..client Finished: what resumption_master_secret covers
        IsComplete = true;
        _state = State.Done;
        return true;
    }

    /// <summary>A ticket from the server: kept with the PSK it stands for (RFC 8446 section 4.6.1). A lifetime of 0 means do not use it.</summary>
    private bool OnNewSessionTicket(ReadOnlySpan<byte> message)
    {
        if (NewSessionTicketMessage.TryParse(message, out bool badEarlyDataSize) is not NewSessionTicketMessage ticket)
        {
            return badEarlyDataSize
                ? FailWithProtocolViolation("a NewSessionTicket's max_early_data_size is not 0xffffffff")
                : Fail(TlsAlert.DecodeError, "malformed NewSessionTicket");
        }

        if (ticket.LifetimeSeconds > 0)
        {
            ReceivedTicket = new SessionTicket(ticket.Ticket, Suite!.Value, Schedule!.ResumptionPsk(_resumptionTranscriptHash!, ticket.Nonce), _options.NowMilliseconds(),
                ticket.LifetimeSeconds, ticket.AgeAdd, _options.ServerName, ApplicationProtocol)
            {
                AllowsEarlyData = ticket.AllowsEarlyData,
                ServerTransportParameters = PeerTransportParameters,
            };
        }

        return true;
    }
}
