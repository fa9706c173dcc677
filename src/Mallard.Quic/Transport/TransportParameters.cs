using System.Buffers.Binary;
using System.Net;
using Mallard.Quic.Packets;

namespace Mallard.Quic.Transport;

/// <summary>
/// QUIC transport parameters (RFC 9000 section 18, plus max_datagram_frame_size of RFC 9221),
/// with their defaults, encoding and validating decoding. A violation is reported as
/// TRANSPORT_PARAMETER_ERROR with a reason, never as an exception.
/// </summary>
internal sealed class TransportParameters
{
    private const ulong OriginalDestinationConnectionIdId = 0x00;
    private const ulong MaxIdleTimeoutId = 0x01;
    private const ulong StatelessResetTokenId = 0x02;
    private const ulong MaxUdpPayloadSizeId = 0x03;
    private const ulong InitialMaxDataId = 0x04;
    private const ulong InitialMaxStreamDataBidiLocalId = 0x05;
    private const ulong InitialMaxStreamDataBidiRemoteId = 0x06;
    private const ulong InitialMaxStreamDataUniId = 0x07;
    private const ulong InitialMaxStreamsBidiId = 0x08;
    private const ulong InitialMaxStreamsUniId = 0x09;
    private const ulong AckDelayExponentId = 0x0a;
    private const ulong MaxAckDelayId = 0x0b;
    private const ulong DisableActiveMigrationId = 0x0c;
    private const ulong PreferredAddressId = 0x0d;
    private const ulong ActiveConnectionIdLimitId = 0x0e;
    private const ulong InitialSourceConnectionIdId = 0x0f;
    private const ulong RetrySourceConnectionIdId = 0x10;
    private const ulong MaxDatagramFrameSizeId = 0x20;

    /// <summary>The Destination Connection ID of the client's first Initial (server only).</summary>
    public byte[]? OriginalDestinationConnectionId { get; set; }

    /// <summary>Idle timeout in milliseconds; 0 means none.</summary>
    public ulong MaxIdleTimeout { get; set; }

    /// <summary>16-octet stateless reset token (server only).</summary>
    public byte[]? StatelessResetToken { get; set; }

    /// <summary>Largest UDP payload the endpoint accepts, at least 1200; default 65527.</summary>
    public ulong MaxUdpPayloadSize { get; set; } = 65_527;

    /// <summary>Initial connection flow-control limit.</summary>
    public ulong InitialMaxData { get; set; }

    /// <summary>Initial limit for bidirectional streams this endpoint opens.</summary>
    public ulong InitialMaxStreamDataBidiLocal { get; set; }

    /// <summary>Initial limit for bidirectional streams the peer opens.</summary>
    public ulong InitialMaxStreamDataBidiRemote { get; set; }

    /// <summary>Initial limit for unidirectional streams the peer opens.</summary>
    public ulong InitialMaxStreamDataUni { get; set; }

    /// <summary>Bidirectional streams the peer may open, at most 2^60.</summary>
    public ulong InitialMaxStreamsBidi { get; set; }

    /// <summary>Unidirectional streams the peer may open, at most 2^60.</summary>
    public ulong InitialMaxStreamsUni { get; set; }

    /// <summary>ACK Delay exponent, at most 20; default 3.</summary>
    public ulong AckDelayExponent { get; set; } = 3;

    /// <summary>Maximum ACK delay in milliseconds, below 2^14; default 25.</summary>
    public ulong MaxAckDelay { get; set; } = 25;

    /// <summary>Whether the endpoint refuses active migration.</summary>
    public bool DisableActiveMigration { get; set; }

    /// <summary>The server's preferred address (server only).</summary>
    public PreferredAddress? PreferredAddress { get; set; }

    /// <summary>Connection IDs the endpoint is willing to store, at least 2; default 2.</summary>
    public ulong ActiveConnectionIdLimit { get; set; } = 2;

    /// <summary>The Source Connection ID of the endpoint's first Initial (required from both).</summary>
    public byte[]? InitialSourceConnectionId { get; set; }

    /// <summary>The Source Connection ID of the server's Retry (server only, after a Retry).</summary>
    public byte[]? RetrySourceConnectionId { get; set; }

    /// <summary>Largest DATAGRAM frame accepted (RFC 9221); null when datagrams are not supported.</summary>
    public ulong? MaxDatagramFrameSize { get; set; }

    /// <summary>A copy whose properties can be changed without touching this one.</summary>
    internal TransportParameters Clone() => (TransportParameters)MemberwiseClone();

    /// <summary>
    /// The limits a client's 0-RTT data may rely on and that a server accepting it must not lower
    /// (RFC 9000 section 7.4.1, RFC 9221 section 3), in a fixed order.
    /// </summary>
    internal ulong[] EarlyDataLimits() =>
    [
        InitialMaxData, InitialMaxStreamDataBidiLocal, InitialMaxStreamDataBidiRemote, InitialMaxStreamDataUni,
        InitialMaxStreamsBidi, InitialMaxStreamsUni, ActiveConnectionIdLimit, MaxDatagramFrameSize ?? 0,
    ];

    /// <summary>
    /// What a client uses for 0-RTT from a server's earlier parameters: all but those it must not
    /// remember (ack_delay_exponent, max_ack_delay, the connection IDs, preferred_address and
    /// stateless_reset_token, RFC 9000 section 7.4.1), which take their defaults until the server's new ones arrive.
    /// </summary>
    internal TransportParameters RememberedForEarlyData()
    {
        TransportParameters remembered = Clone();
        remembered.AckDelayExponent = 3;
        remembered.MaxAckDelay = 25;
        remembered.OriginalDestinationConnectionId = null;
        remembered.InitialSourceConnectionId = null;
        remembered.RetrySourceConnectionId = null;
        remembered.PreferredAddress = null;
        remembered.StatelessResetToken = null;
        return remembered;
    }

    /// <summary>Encodes the parameters that differ from their defaults (plus the required ones).</summary>
    public byte[] Encode()
    {
        var output = new List<byte>(128);
        AddBytes(output, OriginalDestinationConnectionIdId, OriginalDestinationConnectionId);
        AddInteger(output, MaxIdleTimeoutId, MaxIdleTimeout, 0);
        AddBytes(output, StatelessResetTokenId, StatelessResetToken);
        AddInteger(output, MaxUdpPayloadSizeId, MaxUdpPayloadSize, 65_527);
        AddInteger(output, InitialMaxDataId, InitialMaxData, 0);
        AddInteger(output, InitialMaxStreamDataBidiLocalId, InitialMaxStreamDataBidiLocal, 0);
        AddInteger(output, InitialMaxStreamDataBidiRemoteId, InitialMaxStreamDataBidiRemote, 0);
        AddInteger(output, InitialMaxStreamDataUniId, InitialMaxStreamDataUni, 0);
        AddInteger(output, InitialMaxStreamsBidiId, InitialMaxStreamsBidi, 0);
        AddInteger(output, InitialMaxStreamsUniId, InitialMaxStreamsUni, 0);
        AddInteger(output, AckDelayExponentId, AckDelayExponent, 3);
        AddInteger(output, MaxAckDelayId, MaxAckDelay, 25);
        if (DisableActiveMigration)
        {
            AddBytes(output, DisableActiveMigrationId, []);
        }

        if (PreferredAddress is PreferredAddress preferred)
        {
            byte[] value = new byte[4 + 2 + 16 + 2 + 1 + preferred.ConnectionId.Length + 16];
            preferred.IPv4.Address.MapToIPv4().TryWriteBytes(value, out _);
            BinaryPrimitives.WriteUInt16BigEndian(value.AsSpan(4), (ushort)preferred.IPv4.Port);
            preferred.IPv6.Address.TryWriteBytes(value.AsSpan(6), out _);
            BinaryPrimitives.WriteUInt16BigEndian(value.AsSpan(22), (ushort)preferred.IPv6.Port);
            value[24] = (byte)preferred.ConnectionId.Length;
            preferred.ConnectionId.CopyTo(value, 25);
            preferred.StatelessResetToken.CopyTo(value, 25 + preferred.ConnectionId.Length);
            AddBytes(output, PreferredAddressId, value);
        }

        AddInteger(output, ActiveConnectionIdLimitId, ActiveConnectionIdLimit, 2);
        AddBytes(output, InitialSourceConnectionIdId, InitialSourceConnectionId);
        AddBytes(output, RetrySourceConnectionIdId, RetrySourceConnectionId);
        if (MaxDatagramFrameSize is ulong datagrams)
        {
            AddInteger(output, MaxDatagramFrameSizeId, datagrams, ulong.MaxValue);
        }

        return [.. output];
    }

    /// <summary>
    /// Decodes and validates parameters sent by a client (<paramref name="fromServer"/> false) or a
    /// server. Unknown parameters are ignored (RFC 9000 section 7.4.2), so reserved ones of the
    /// form 31 * N + 27 pass.
    /// </summary>
    /// <returns>The parameters, or null with <paramref name="error"/> saying why (the connection closes with TRANSPORT_PARAMETER_ERROR).</returns>
    public static TransportParameters? TryDecode(ReadOnlySpan<byte> encoded, bool fromServer, out string? error)
    {
        var result = new TransportParameters();
        var seen = new HashSet<ulong>();
        while (!encoded.IsEmpty)
        {
            if (!VariableLengthInteger.TryRead(encoded, out ulong id, out int idLength)
                || !VariableLengthInteger.TryRead(encoded[idLength..], out ulong length, out int lengthLength))
            {
                error = "a transport parameter's ID or length is truncated";
                return null;
            }

            encoded = encoded[(idLength + lengthLength)..];
            if (length > (ulong)encoded.Length)
            {
                error = $"transport parameter 0x{id:x} claims {length} octets; {encoded.Length} remain";
                return null;
            }

            ReadOnlySpan<byte> value = encoded[..(int)length];
            encoded = encoded[(int)length..];
            if (!seen.Add(id))
            {
                error = $"transport parameter 0x{id:x} appears twice";
                return null;
            }

            error = result.Apply(id, value, fromServer);
            if (error is not null)
            {
                return null;
            }
        }

        if (result.InitialSourceConnectionId is null)
        {
            error = "initial_source_connection_id is missing";
            return null;
        }

        if (fromServer && result.OriginalDestinationConnectionId is null)
        {
            error = "original_destination_connection_id is missing from the server's parameters";
            return null;
        }

        error = null;
        return result;
    }

    private string? Apply(ulong id, ReadOnlySpan<byte> value, bool fromServer)
    {
        switch (id)
        {
            case OriginalDestinationConnectionIdId:
            case StatelessResetTokenId:
            case PreferredAddressId:
            case RetrySourceConnectionIdId:
                if (!fromServer)
                {
                    return $"a client must not send transport parameter 0x{id:x} (RFC 9000 section 18.2)";
                }

                break;
        }

        switch (id)
        {
            case OriginalDestinationConnectionIdId:
                return ConnectionId(value, "original_destination_connection_id", v => OriginalDestinationConnectionId = v);
            case InitialSourceConnectionIdId:
                return ConnectionId(value, "initial_source_connection_id", v => InitialSourceConnectionId = v);
            case RetrySourceConnectionIdId:
                return ConnectionId(value, "retry_source_connection_id", v => RetrySourceConnectionId = v);
            case StatelessResetTokenId:
                if (value.Length != 16)
                {
                    return $"stateless_reset_token is {value.Length} octets; it must be 16";
                }

                StatelessResetToken = value.ToArray();
                return null;
            case DisableActiveMigrationId:
                if (!value.IsEmpty)
                {
                    return "disable_active_migration must be empty";
                }

                DisableActiveMigration = true;
                return null;
            case PreferredAddressId:
                return DecodePreferredAddress(value);
            case MaxDatagramFrameSizeId:
                return Integer(value, "max_datagram_frame_size", 0, VariableLengthInteger.Max, v => MaxDatagramFrameSize = v);
            case MaxIdleTimeoutId:
                return Integer(value, "max_idle_timeout", 0, VariableLengthInteger.Max, v => MaxIdleTimeout = v);
            case MaxUdpPayloadSizeId:
                return Integer(value, "max_udp_payload_size", 1200, 65_527, v => MaxUdpPayloadSize = v);
            case InitialMaxDataId:
                return Integer(value, "initial_max_data", 0, VariableLengthInteger.Max, v => InitialMaxData = v);
            case InitialMaxStreamDataBidiLocalId:
                return Integer(value, "initial_max_stream_data_bidi_local", 0, VariableLengthInteger.Max, v => InitialMaxStreamDataBidiLocal = v);
            case InitialMaxStreamDataBidiRemoteId:
                return Integer(value, "initial_max_stream_data_bidi_remote", 0, VariableLengthInteger.Max, v => InitialMaxStreamDataBidiRemote = v);
            case InitialMaxStreamDataUniId:
                return Integer(value, "initial_max_stream_data_uni", 0, VariableLengthInteger.Max, v => InitialMaxStreamDataUni = v);
            case InitialMaxStreamsBidiId:
                return Integer(value, "initial_max_streams_bidi", 0, 1UL << 60, v => InitialMaxStreamsBidi = v);
            case InitialMaxStreamsUniId:
                return Integer(value, "initial_max_streams_uni", 0, 1UL << 60, v => InitialMaxStreamsUni = v);
            case AckDelayExponentId:
                return Integer(value, "ack_delay_exponent", 0, 20, v => AckDelayExponent = v);
            case MaxAckDelayId:
                return Integer(value, "max_ack_delay", 0, (1UL << 14) - 1, v => MaxAckDelay = v);
            case ActiveConnectionIdLimitId:
                return Integer(value, "active_connection_id_limit", 2, VariableLengthInteger.Max, v => ActiveConnectionIdLimit = v);
            default:
                return null;
        }
    }

    private string? DecodePreferredAddress(ReadOnlySpan<byte> value)
    {
        if (value.Length < 25)
        {
            return "preferred_address is truncated";
        }

        int cidLength = value[24];
        if (cidLength is 0 or > 20 || value.Length != 25 + cidLength + 16)
        {
            return "preferred_address has a bad connection ID length or size";
        }

        PreferredAddress = new PreferredAddress(
            new IPEndPoint(new IPAddress(value[..4]), BinaryPrimitives.ReadUInt16BigEndian(value[4..])),
            new IPEndPoint(new IPAddress(value.Slice(6, 16)), BinaryPrimitives.ReadUInt16BigEndian(value[22..])),
            value.Slice(25, cidLength).ToArray(),
            value.Slice(25 + cidLength, 16).ToArray());
        return null;
    }

    private static string? Integer(ReadOnlySpan<byte> value, string name, ulong min, ulong max, Action<ulong> set)
    {
        if (!VariableLengthInteger.TryRead(value, out ulong number, out int length) || length != value.Length)
        {
            return $"{name} is not one variable-length integer";
        }

        if (number < min || number > max)
        {
            return $"{name} is {number}; it must be {min} to {max}";
        }

        set(number);
        return null;
    }

    private static string? ConnectionId(ReadOnlySpan<byte> value, string name, Action<byte[]> set)
    {
        if (value.Length > 20)
        {
            return $"{name} is {value.Length} octets; a connection ID is at most 20";
        }

        set(value.ToArray());
        return null;
    }

    private static void AddInteger(List<byte> output, ulong id, ulong value, ulong defaultValue)
    {
        if (value == defaultValue)
        {
            return;
        }

        Span<byte> number = stackalloc byte[8];
        int length = VariableLengthInteger.TryWrite(number, value);
        AddBytes(output, id, number[..length].ToArray());
    }

    private static void AddBytes(List<byte> output, ulong id, byte[]? value)
    {
        if (value is null)
        {
            return;
        }

        Span<byte> scratch = stackalloc byte[8];
        output.AddRange(scratch[..VariableLengthInteger.TryWrite(scratch, id)]);
        output.AddRange(scratch[..VariableLengthInteger.TryWrite(scratch, (ulong)value.Length)]);
        output.AddRange(value);
    }
}
