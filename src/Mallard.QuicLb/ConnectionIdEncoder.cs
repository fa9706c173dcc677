using System.Globalization;
using Mallard.QuicLb.Crypto;

namespace Mallard.QuicLb;

/// <summary>
/// The server's side of QUIC-LB: issues connection IDs that carry one server ID under one
/// configuration (draft-21 section 5, "Server Actions"). Thread safe.
/// </summary>
/// <remarks>
/// With a key, the nonce is a counter that starts at a random value and never repeats under that
/// key: once every value has been used, <see cref="Issue(Span{byte})"/> throws
/// <see cref="ConnectionIdExhaustedException"/> rather than wrap. Without a key the nonce is
/// random, as nothing is hidden and the counter would only add linkability.
/// </remarks>
public sealed class ConnectionIdEncoder
{
    private readonly QuicLbConfig _config;
    private readonly QuicLbCipher _cipher;
    private readonly byte[] _serverId;
    private readonly Action<Span<byte>> _fillRandom;
    private readonly byte[] _counter;
    private readonly UInt128 _nonceSpace;
    private readonly Lock _counterLock = new();
    private UInt128 _issued;

    /// <summary>Creates an encoder for <paramref name="serverId"/> under <paramref name="config"/>.</summary>
    /// <exception cref="QuicLbConfigException">The server ID length does not match the configuration.</exception>
    public ConnectionIdEncoder(QuicLbConfig config, ReadOnlySpan<byte> serverId)
        : this(config, serverId, BufferedRandom.Shared.Fill)
    {
    }

    /// <summary>
    /// Creates an encoder that draws its random octets from <paramref name="fillRandom"/> (tests
    /// use a seeded source) and may be kept off hardware AES (tests cover both paths).
    /// </summary>
    internal ConnectionIdEncoder(QuicLbConfig config, ReadOnlySpan<byte> serverId, Action<Span<byte>> fillRandom, bool allowHardwareAes = true)
    {
        ArgumentNullException.ThrowIfNull(config);
        if (serverId.Length != config.ServerIdLength)
        {
            throw new QuicLbConfigException(nameof(serverId), string.Create(CultureInfo.InvariantCulture,
                $"serverId is {serverId.Length} octets; config {config.ConfigId} needs exactly {config.ServerIdLength}."));
        }

        _config = config;
        _cipher = new QuicLbCipher(config, allowHardwareAes);
        _serverId = serverId.ToArray();
        _fillRandom = fillRandom;
        _counter = new byte[config.NonceLength];
        _nonceSpace = config.NonceLength >= 16 ? UInt128.MaxValue : UInt128.One << (8 * config.NonceLength);
        if (config.HasKey)
        {
            fillRandom(_counter);
        }
    }

    /// <summary>The configuration this encoder issues connection IDs for.</summary>
    public QuicLbConfig Config => _config;

    /// <summary>The server ID every connection ID carries.</summary>
    public ServerId ServerId => new(_serverId);

    /// <summary>Length of every connection ID this encoder issues.</summary>
    public int ConnectionIdLength => _config.ConnectionIdLength;

    /// <summary>How many connection IDs have been issued with a counter nonce.</summary>
    internal UInt128 Issued
    {
        get
        {
            lock (_counterLock)
            {
                return _issued;
            }
        }

        set
        {
            lock (_counterLock)
            {
                _issued = value;
            }
        }
    }

    /// <summary>Issues a new connection ID into <paramref name="destination"/> and returns its length.</summary>
    /// <exception cref="ArgumentException">The destination is shorter than <see cref="ConnectionIdLength"/>.</exception>
    /// <exception cref="ConnectionIdExhaustedException">An encrypted configuration has used every nonce.</exception>
    public int Issue(Span<byte> destination)
    {
        CheckDestination(destination);
        Span<byte> nonce = stackalloc byte[QuicLbConfig.MaxNonceLength];
        nonce = nonce[.._config.NonceLength];
        if (_config.HasKey)
        {
            NextCounter(nonce);
        }
        else
        {
            _fillRandom(nonce);
        }

        return Write(nonce, destination);
    }

    /// <summary>Issues a new connection ID as a new array.</summary>
    public byte[] Issue()
    {
        var connectionId = new byte[ConnectionIdLength];
        Issue(connectionId);
        return connectionId;
    }

    /// <summary>
    /// Encodes a connection ID with a nonce chosen by the caller (for tools and test vectors;
    /// a server should use <see cref="Issue(Span{byte})"/>, which never repeats a nonce).
    /// </summary>
    public int Encode(ReadOnlySpan<byte> nonce, Span<byte> destination)
    {
        if (nonce.Length != _config.NonceLength)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"The nonce is {nonce.Length} octets; config {_config.ConfigId} needs exactly {_config.NonceLength}."), nameof(nonce));
        }

        CheckDestination(destination);
        return Write(nonce, destination);
    }

    private int Write(ReadOnlySpan<byte> nonce, Span<byte> destination)
    {
        Span<byte> plaintext = stackalloc byte[QuicLbConfig.MaxCombinedLength];
        _serverId.CopyTo(plaintext);
        nonce.CopyTo(plaintext[_serverId.Length..]);
        _cipher.Encrypt(plaintext, destination[1..]);
        destination[0] = FirstOctet();
        return ConnectionIdLength;
    }

    // Config rotation bits, then either the length of what follows (section 3.2) or random bits.
    private byte FirstOctet()
    {
        int low;
        if (_config.EncodesLength)
        {
            low = _config.ConnectionIdLength - 1;
        }
        else
        {
            Span<byte> random = stackalloc byte[1];
            _fillRandom(random);
            low = random[0] & 0x1f;
        }

        return (byte)((_config.ConfigId << 5) | low);
    }

    private void NextCounter(Span<byte> nonce)
    {
        lock (_counterLock)
        {
            if (_issued == _nonceSpace)
            {
                throw new ConnectionIdExhaustedException(string.Create(CultureInfo.InvariantCulture,
                    $"All 2^{8 * _config.NonceLength} nonces of config {_config.ConfigId} have been issued for server ID {Convert.ToHexStringLower(_serverId)}; issuing more would repeat a connection ID. Rotate to a new config ID or key."));
            }

            _counter.CopyTo(nonce);
            _issued++;

            // Big-endian increment with wrap-around; the issued count, not the value, detects the end.
            for (int i = _counter.Length - 1; i >= 0 && ++_counter[i] == 0; i--)
            {
            }
        }
    }

    private void CheckDestination(Span<byte> destination)
    {
        if (destination.Length < ConnectionIdLength)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"The destination holds {destination.Length} octets; a connection ID of config {_config.ConfigId} needs {ConnectionIdLength}."), nameof(destination));
        }
    }
}
