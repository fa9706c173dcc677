using System.Buffers;
using System.Text.Json;
using Mallard.Quic.Frames;
using Mallard.Quic.Recovery;
using Mallard.Quic.Transport;

namespace Mallard.Quic.Qlog;

/// <summary>
/// One connection's qlog in JSON-SEQ (RFC 7464: each record is RS, JSON text, LF), following the
/// qlog main schema (draft-ietf-quic-qlog-main-schema, qlog_version 0.3) and the QUIC event
/// definitions qvis reads (draft-ietf-quic-qlog-quic-events): packets sent and received with
/// their frames, recovery metrics, state changes, parameters and the close. Times are
/// milliseconds relative to the connection's start.
/// </summary>
internal sealed class QlogWriter : IDisposable
{
    private const byte RecordSeparator = 0x1e;

    private readonly Stream _output;
    private readonly ArrayBufferWriter<byte> _buffer = new(4096);
    private readonly Utf8JsonWriter _json;
    private readonly long _start;
    private readonly List<QlogFrame> _receivedFrames = [];
    private (long Now, Connections.SpaceId Space, ulong PacketNumber, int Length, bool ZeroRtt)? _received;

    public QlogWriter(Stream output, bool isServer, ReadOnlySpan<byte> originalDestinationConnectionId, long now)
    {
        _output = output;
        _json = new Utf8JsonWriter(_buffer);
        _start = now;
        _json.WriteStartObject();
        _json.WriteString("qlog_version", "0.3");
        _json.WriteString("qlog_format", "JSON-SEQ");
        _json.WriteString("title", "Mallard.Quic");
        _json.WriteStartObject("trace");
        _json.WriteStartObject("vantage_point");
        _json.WriteString("name", "mallard");
        _json.WriteString("type", isServer ? "server" : "client");
        _json.WriteEndObject();
        _json.WriteStartObject("common_fields");
        _json.WriteString("ODCID", Convert.ToHexStringLower(originalDestinationConnectionId));
        _json.WriteString("time_format", "relative");
        _json.WriteNumber("reference_time", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        _json.WriteString("protocol_type", "QUIC");
        _json.WriteEndObject();
        _json.WriteEndObject();
        _json.WriteEndObject();
        EndRecord();
    }

    public void ConnectionStarted(long now, System.Net.IPEndPoint remote, ReadOnlySpan<byte> sourceConnectionId, ReadOnlySpan<byte> destinationConnectionId)
    {
        BeginEvent(now, "connectivity:connection_started");
        _json.WriteString("ip_version", remote.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? "ipv6" : "ipv4");
        _json.WriteString("dst_ip", remote.Address.ToString());
        _json.WriteNumber("dst_port", remote.Port);
        _json.WriteString("src_cid", Convert.ToHexStringLower(sourceConnectionId));
        _json.WriteString("dst_cid", Convert.ToHexStringLower(destinationConnectionId));
        _json.WriteString("protocol", "QUIC");
        EndEvent();
    }

    public void StateUpdated(long now, string state)
    {
        BeginEvent(now, "connectivity:connection_state_updated");
        _json.WriteString("new", state);
        EndEvent();
    }

    public void ParametersSet(long now, bool local, TransportParameters parameters)
    {
        BeginEvent(now, "transport:parameters_set");
        _json.WriteString("owner", local ? "local" : "remote");
        _json.WriteNumber("max_idle_timeout", parameters.MaxIdleTimeout);
        _json.WriteNumber("max_udp_payload_size", parameters.MaxUdpPayloadSize);
        _json.WriteNumber("ack_delay_exponent", parameters.AckDelayExponent);
        _json.WriteNumber("max_ack_delay", parameters.MaxAckDelay);
        _json.WriteNumber("active_connection_id_limit", parameters.ActiveConnectionIdLimit);
        _json.WriteNumber("initial_max_data", parameters.InitialMaxData);
        _json.WriteNumber("initial_max_stream_data_bidi_local", parameters.InitialMaxStreamDataBidiLocal);
        _json.WriteNumber("initial_max_stream_data_bidi_remote", parameters.InitialMaxStreamDataBidiRemote);
        _json.WriteNumber("initial_max_stream_data_uni", parameters.InitialMaxStreamDataUni);
        _json.WriteNumber("initial_max_streams_bidi", parameters.InitialMaxStreamsBidi);
        _json.WriteNumber("initial_max_streams_uni", parameters.InitialMaxStreamsUni);
        _json.WriteBoolean("disable_active_migration", parameters.DisableActiveMigration);
        if (parameters.MaxDatagramFrameSize is ulong datagrams)
        {
            _json.WriteNumber("max_datagram_frame_size", datagrams);
        }

        EndEvent();
    }

    /// <summary>packet_sent, with the frames the packet carries.</summary>
    public void PacketSent(long now, Connections.SpaceId space, ulong packetNumber, int length, List<SentFrame> frames, bool zeroRtt = false)
    {
        BeginPacketEvent(now, "transport:packet_sent", space, packetNumber, length, zeroRtt);
        foreach (SentFrame frame in frames)
        {
            WriteFrame(frame);
        }

        _json.WriteEndArray();
        EndEvent();
    }

    /// <summary>Starts collecting a received packet's frames; <see cref="EndPacketReceived"/> writes packet_received.</summary>
    public void BeginPacketReceived(long now, Connections.SpaceId space, ulong packetNumber, int length, bool zeroRtt = false)
    {
        _received = (now, space, packetNumber, length, zeroRtt);
        _receivedFrames.Clear();
    }

    /// <summary>A frame of the packet being received.</summary>
    public void ReceivedFrame(in Frame frame, int length) => _receivedFrames.Add(frame.Type switch
    {
        FrameType.Padding => new QlogFrame("padding", Length: length),
        FrameType.Ack or FrameType.AckEcn => new QlogFrame("ack", Largest: frame.LargestAcknowledged),
        FrameType.Crypto => new QlogFrame("crypto", Offset: frame.Offset, Length: frame.Data.Length),
        FrameType.Stream => new QlogFrame("stream", StreamId: frame.StreamId, Offset: frame.Offset, Length: frame.Data.Length, Fin: frame.Fin),
        FrameType.Datagram => new QlogFrame("datagram", Length: frame.Data.Length),
        FrameType.ConnectionCloseTransport or FrameType.ConnectionCloseApplication =>
            new QlogFrame("connection_close", ErrorCode: frame.ErrorCode, ApplicationError: frame.Type == FrameType.ConnectionCloseApplication),
        FrameType.ResetStream or FrameType.StopSending or FrameType.MaxStreamData or FrameType.StreamDataBlocked =>
            new QlogFrame(SnakeCase(frame.Type.ToString()), StreamId: frame.StreamId),
        _ => new QlogFrame(SnakeCase(frame.Type.ToString())),
    });

    public void EndPacketReceived()
    {
        if (_received is not var (now, space, packetNumber, length, zeroRtt))
        {
            return;
        }

        _received = null;
        BeginPacketEvent(now, "transport:packet_received", space, packetNumber, length, zeroRtt);
        foreach (QlogFrame frame in _receivedFrames)
        {
            WriteFrame(frame);
        }

        _json.WriteEndArray();
        EndEvent();
    }

    public void PacketDropped(long now, int length, string trigger)
    {
        BeginEvent(now, "transport:packet_dropped");
        _json.WriteStartObject("raw");
        _json.WriteNumber("length", length);
        _json.WriteEndObject();
        _json.WriteString("trigger", trigger);
        EndEvent();
    }

    public void PacketLost(long now, Connections.SpaceId space, ulong packetNumber, string trigger)
    {
        BeginEvent(now, "recovery:packet_lost");
        _json.WriteStartObject("header");
        _json.WriteString("packet_type", PacketType(space));
        _json.WriteNumber("packet_number", packetNumber);
        _json.WriteEndObject();
        _json.WriteString("trigger", trigger);
        EndEvent();
    }

    public void MetricsUpdated(long now, RttEstimator rtt, long congestionWindow, long bytesInFlight)
    {
        BeginEvent(now, "recovery:metrics_updated");
        _json.WriteNumber("min_rtt", rtt.MinRtt / 1000.0);
        _json.WriteNumber("smoothed_rtt", rtt.SmoothedRtt / 1000.0);
        _json.WriteNumber("latest_rtt", rtt.LatestRtt / 1000.0);
        _json.WriteNumber("rtt_variance", rtt.RttVariation / 1000.0);
        _json.WriteNumber("congestion_window", congestionWindow);
        _json.WriteNumber("bytes_in_flight", bytesInFlight);
        EndEvent();
    }

    /// <summary>Datagram payload handed between the application and QUIC (the qlog DATAGRAM extension).</summary>
    /// <summary>connectivity:mtu_updated: path MTU discovery changed the largest datagram sent on the path.</summary>
    public void MtuUpdated(long now, int old, int current, bool done)
    {
        BeginEvent(now, "connectivity:mtu_updated");
        _json.WriteNumber("old", old);
        _json.WriteNumber("new", current);
        _json.WriteBoolean("done", done);
        EndEvent();
    }

    public void DatagramDataMoved(long now, int length, bool fromApplication)
    {
        BeginEvent(now, "transport:datagram_data_moved");
        _json.WriteNumber("length", length);
        _json.WriteString("from", fromApplication ? "application" : "transport");
        _json.WriteString("to", fromApplication ? "transport" : "application");
        EndEvent();
    }

    public void DatagramDropped(long now, int length, string trigger)
    {
        BeginEvent(now, "transport:datagram_dropped");
        _json.WriteNumber("length", length);
        _json.WriteString("trigger", trigger);
        EndEvent();
    }

    public void ConnectionClosed(long now, bool local, bool application, ulong code, string reason, string trigger)
    {
        BeginEvent(now, "connectivity:connection_closed");
        _json.WriteString("owner", local ? "local" : "remote");
        _json.WriteNumber(application ? "application_code" : "connection_code", code);
        _json.WriteString("reason", reason);
        _json.WriteString("trigger", trigger);
        EndEvent();
    }

    public void Dispose()
    {
        _json.Dispose();
        _output.Dispose();
    }

    private static string PacketType(Connections.SpaceId space, bool zeroRtt = false) => space switch
    {
        Connections.SpaceId.Initial => "initial",
        Connections.SpaceId.Handshake => "handshake",
        _ => zeroRtt ? "0RTT" : "1RTT",
    };

    private static string SnakeCase(string name) => string.Concat(name.Select((c, i) => char.IsUpper(c) && i > 0 ? "_" + char.ToLowerInvariant(c) : char.ToLowerInvariant(c).ToString()));

    private void BeginPacketEvent(long now, string name, Connections.SpaceId space, ulong packetNumber, int length, bool zeroRtt)
    {
        BeginEvent(now, name);
        _json.WriteStartObject("header");
        _json.WriteString("packet_type", PacketType(space, zeroRtt));
        _json.WriteNumber("packet_number", packetNumber);
        _json.WriteEndObject();
        _json.WriteStartObject("raw");
        _json.WriteNumber("length", length);
        _json.WriteEndObject();
        _json.WriteStartArray("frames");
    }

    private void WriteFrame(in SentFrame frame) => WriteFrame(frame.Kind switch
    {
        SentFrameKind.Ack => new QlogFrame("ack", Largest: frame.Id),
        SentFrameKind.Crypto => new QlogFrame("crypto", Offset: frame.Offset, Length: frame.Length),
        SentFrameKind.Stream => new QlogFrame("stream", StreamId: frame.Id, Offset: frame.Offset, Length: frame.Length, Fin: frame.Fin),
        SentFrameKind.Datagram => new QlogFrame("datagram", Length: frame.Length),
        SentFrameKind.ResetStream or SentFrameKind.StopSending or SentFrameKind.MaxStreamData => new QlogFrame(SnakeCase(frame.Kind.ToString()), StreamId: frame.Id),
        SentFrameKind.MaxStreamsBidi or SentFrameKind.MaxStreamsUni => new QlogFrame("max_streams"),
        _ => new QlogFrame(SnakeCase(frame.Kind.ToString())),
    });

    private void WriteFrame(in QlogFrame frame)
    {
        _json.WriteStartObject();
        _json.WriteString("frame_type", frame.Type);
        if (frame.Type == "ack")
        {
            // The acknowledged ranges are summarised by their top; qvis draws the frame either way.
            _json.WriteStartArray("acked_ranges");
            _json.WriteStartArray();
            _json.WriteNumberValue(frame.Largest);
            _json.WriteEndArray();
            _json.WriteEndArray();
        }

        if (frame.StreamId is ulong stream)
        {
            _json.WriteNumber("stream_id", stream);
        }

        if (frame.Type is "crypto" or "stream")
        {
            _json.WriteNumber("offset", frame.Offset);
        }

        if (frame.Type is "crypto" or "stream" or "datagram" or "padding")
        {
            _json.WriteNumber("length", frame.Length);
        }

        if (frame.Fin)
        {
            _json.WriteBoolean("fin", true);
        }

        if (frame.Type == "connection_close")
        {
            _json.WriteString("error_space", frame.ApplicationError ? "application" : "transport");
            _json.WriteNumber("error_code", frame.ErrorCode);
        }

        _json.WriteEndObject();
    }

    private void BeginEvent(long now, string name)
    {
        _json.WriteStartObject();
        _json.WriteNumber("time", (now - _start) / 1000.0);
        _json.WriteString("name", name);
        _json.WriteStartObject("data");
    }

    private void EndEvent()
    {
        _json.WriteEndObject();
        _json.WriteEndObject();
        EndRecord();
    }

    /// <summary>Writes the finished JSON text as one JSON-SEQ record.</summary>
    private void EndRecord()
    {
        _json.Flush();
        _output.WriteByte(RecordSeparator);
        _output.Write(_buffer.WrittenSpan);
        _output.WriteByte((byte)'\n');
        _buffer.ResetWrittenCount();
        _json.Reset();
    }

    /// <summary>What qlog shows of one frame.</summary>
    private readonly record struct QlogFrame(string Type, ulong? StreamId = null, ulong Offset = 0, long Length = 0, bool Fin = false, ulong Largest = 0, ulong ErrorCode = 0, bool ApplicationError = false);
}
