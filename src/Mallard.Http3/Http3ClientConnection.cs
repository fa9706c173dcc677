using System.Globalization;
using Mallard.Http3.Frames;
using Mallard.Http3.Qpack;
using Mallard.Quic;

namespace Mallard.Http3;

/// <summary>
/// An HTTP/3 client connection (RFC 9114) on Mallard.Quic: requests on bidirectional streams,
/// the control stream with SETTINGS and GOAWAY, and QPACK (RFC 9204) with a dynamic table the
/// server may use for its responses. Requests are encoded with the static table and literals only.
/// The peer's streams and frames are checked as the RFCs require; a violation closes the
/// connection with the HTTP/3 error code the RFC names, and every request then fails with it.
/// </summary>
/// <example>
/// <code>
/// await using Http3ClientConnection h3 = await Http3ClientConnection.ConnectAsync(new QuicClientConnectionOptions
/// {
///     RemoteEndPoint = new DnsEndPoint("example.net", 443),
///     ApplicationProtocols = ["h3"],
/// });
/// await using Http3Response response = await h3.GetAsync(new Uri("https://example.net/"));
/// byte[] body = await response.ReadContentAsync();
/// </code>
/// </example>
public sealed class Http3ClientConnection : IAsyncDisposable
{
    /// <summary>SETTINGS_QPACK_MAX_TABLE_CAPACITY this client advertises: the dynamic table the server may fill.</summary>
    public const int MaxTableCapacity = 4096;

    /// <summary>SETTINGS_QPACK_BLOCKED_STREAMS this client advertises.</summary>
    public const int MaxBlockedStreams = 16;

    /// <summary>SETTINGS_MAX_FIELD_SECTION_SIZE this client advertises: the most a response's headers or trailers may decode to.</summary>
    public const int MaxFieldSectionSize = 64 * 1024;

    /// <summary>The largest SETTINGS or other control frame accepted (they hold a handful of integers).</summary>
    private const int MaxControlFrameLength = 4096;

    private readonly QuicConnection _quic;
    private readonly QpackDecoder _decoder = new(MaxTableCapacity, MaxBlockedStreams, MaxFieldSectionSize);
    private readonly SemaphoreSlim _decoderStreamWrites = new(1, 1);
    private readonly CancellationTokenSource _closing = new();
    private readonly Lock _gate = new();
    private QuicStream? _control, _encoderStream, _decoderStream;
    private bool _peerControlSeen, _peerEncoderSeen, _peerDecoderSeen;
    private long _goAwayStreamId = long.MaxValue;
    private long _peerMaxFieldSectionSize = long.MaxValue;
    private Http3Exception? _failure;
    private Task? _acceptLoop;

    private Http3ClientConnection(QuicConnection quic) => _quic = quic;

    /// <summary>The QUIC connection underneath: addresses, migration, statistics, datagrams.</summary>
    public QuicConnection QuicConnection => _quic;

    /// <summary>The stream ID in the server's last GOAWAY (RFC 9114 section 5.2): requests on this ID or above were not processed; null before any.</summary>
    public long? GoAwayStreamId
    {
        get
        {
            lock (_gate)
            {
                return _goAwayStreamId == long.MaxValue ? null : _goAwayStreamId;
            }
        }
    }

    /// <summary>Entries the server's QPACK encoder has inserted into this client's dynamic table so far.</summary>
    public long QpackDynamicTableInserts => _decoder.InsertCount;

    /// <summary>Whether the server's SETTINGS frame has arrived.</summary>
    public bool PeerSettingsReceived { get; private set; }

    /// <summary>
    /// Connects over QUIC and opens the control and QPACK streams. <paramref name="options"/>
    /// must offer ALPN <c>h3</c>.
    /// </summary>
    public static async Task<Http3ClientConnection> ConnectAsync(QuicClientConnectionOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!options.ApplicationProtocols.Contains("h3"))
        {
            throw new ArgumentException("ApplicationProtocols must include \"h3\" for HTTP/3 (RFC 9114 section 3.1).", nameof(options));
        }

        QuicConnection quic = await QuicConnection.ConnectAsync(options, cancellationToken).ConfigureAwait(false);
        var connection = new Http3ClientConnection(quic);
        try
        {
            await connection.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        return connection;
    }

    /// <summary>GET <paramref name="uri"/>.</summary>
    public Task<Http3Response> GetAsync(Uri uri, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Get, uri, null, default, cancellationToken);

    /// <summary>
    /// Sends a request and returns once the response's headers have arrived (interim 1xx
    /// responses are passed over); read <see cref="Http3Response.Content"/> for the body.
    /// Header names are sent in lower case; connection-specific headers are refused (RFC 9114 section 4.2).
    /// </summary>
    public async Task<Http3Response> SendAsync(HttpMethod method, Uri uri, IEnumerable<KeyValuePair<string, string>>? headers = null,
        ReadOnlyMemory<byte> content = default, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(method);
        ArgumentNullException.ThrowIfNull(uri);
        if (!uri.IsAbsoluteUri || uri.Scheme != Uri.UriSchemeHttps)
        {
            throw new ArgumentException($"\"{uri}\" is not an absolute https URI.", nameof(uri));
        }

        ThrowIfFailed();
        if (GoAwayStreamId is not null)
        {
            throw new Http3Exception(Http3ErrorCode.RequestRejected, "the server sent GOAWAY: open a new connection for new requests");
        }

        byte[] section = QpackWriter.EncodeFieldSection(RequestFields(method, uri, headers, content.Length));
        QuicStream stream;
        try
        {
            stream = await _quic.OpenOutboundStreamAsync(QuicStreamType.Bidirectional, cancellationToken).ConfigureAwait(false);
        }
        catch (QuicException closed)
        {
            throw Translate(closed);
        }

        try
        {
            await WriteRequestAsync(stream, section, content, cancellationToken).ConfigureAwait(false);
            var reader = new Http3FrameReader(stream);
            while (true)
            {
                List<KeyValuePair<string, string>> fields = await ReadResponseHeadersAsync(stream, reader, cancellationToken).ConfigureAwait(false);
                (int status, List<KeyValuePair<string, string>> responseHeaders) = Http3MessageRules.ValidateResponse(fields);
                if (status >= 200)
                {
                    return new Http3Response(this, stream, reader, status, responseHeaders, method == HttpMethod.Head || status is 204 or 304);
                }
            }
        }
        catch (Exception failure)
        {
            await AbandonAsync(stream, failure).ConfigureAwait(false);
            throw Translate(failure);
        }
    }

    private static IEnumerable<KeyValuePair<string, string>> RequestFields(HttpMethod method, Uri uri, IEnumerable<KeyValuePair<string, string>>? headers, int contentLength)
    {
        List<KeyValuePair<string, string>> fields =
        [
            new(":method", method.Method),
            new(":scheme", "https"),
            new(":authority", uri.IsDefaultPort ? uri.IdnHost : $"{uri.IdnHost}:{uri.Port.ToString(CultureInfo.InvariantCulture)}"),
            new(":path", string.IsNullOrEmpty(uri.PathAndQuery) ? "/" : uri.PathAndQuery),
        ];
        foreach ((string name, string value) in headers ?? [])
        {
            fields.Add(new(Http3MessageRules.RequestHeaderName(name), value));
        }

        if (contentLength > 0 && !fields.Any(f => f.Key == "content-length"))
        {
            fields.Add(new("content-length", contentLength.ToString(CultureInfo.InvariantCulture)));
        }

        return fields;
    }

    private async Task WriteRequestAsync(QuicStream stream, byte[] section, ReadOnlyMemory<byte> content, CancellationToken cancellationToken)
    {
        if (section.Length > _peerMaxFieldSectionSize)
        {
            throw new Http3Exception(Http3ErrorCode.ExcessiveLoad, $"the request's headers exceed the server's SETTINGS_MAX_FIELD_SECTION_SIZE of {_peerMaxFieldSectionSize}");
        }

        byte[] headersFrame = VarInt.Frame(Http3FrameType.Headers, section);
        if (content.IsEmpty)
        {
            await stream.WriteAsync(headersFrame, completeWrites: true, cancellationToken).ConfigureAwait(false);
            return;
        }

        await stream.WriteAsync(headersFrame, completeWrites: false, cancellationToken).ConfigureAwait(false);
        const int chunk = 64 * 1024;
        for (int offset = 0; offset < content.Length; offset += chunk)
        {
            ReadOnlyMemory<byte> piece = content.Slice(offset, Math.Min(chunk, content.Length - offset));
            await stream.WriteAsync(VarInt.Frame(Http3FrameType.Data, piece.Span), completeWrites: offset + piece.Length == content.Length, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Frames up to the next HEADERS on a request stream, decoded (RFC 9114 section 4.1).</summary>
    private async Task<List<KeyValuePair<string, string>>> ReadResponseHeadersAsync(QuicStream stream, Http3FrameReader reader, CancellationToken cancellationToken)
    {
        while (true)
        {
            (long type, long length) = await reader.ReadFrameHeaderAsync(cancellationToken).ConfigureAwait(false)
                ?? throw new Http3Exception(Http3ErrorCode.RequestIncomplete, "the response stream ended before its headers");
            switch (type)
            {
                case Http3FrameType.Headers:
                    byte[] section = await reader.ReadPayloadAsync(length, MaxFieldSectionSize, Http3ErrorCode.ExcessiveLoad, "a HEADERS frame", cancellationToken).ConfigureAwait(false);
                    return await DecodeAsync(section, stream.Id, cancellationToken).ConfigureAwait(false);
                case Http3FrameType.Data:
                    throw ConnectionError(Http3ErrorCode.FrameUnexpected, "a DATA frame before the response's HEADERS");
                default:
                    await OnOtherRequestStreamFrameAsync(reader, type, length, cancellationToken).ConfigureAwait(false);
                    break;
            }
        }
    }

    /// <summary>A frame on a request stream that is neither DATA nor HEADERS: unknown ones are skipped (section 9), the rest are errors.</summary>
    internal async ValueTask OnOtherRequestStreamFrameAsync(Http3FrameReader reader, long type, long length, CancellationToken cancellationToken)
    {
        switch (type)
        {
            case Http3FrameType.PushPromise:
                // This client never sends MAX_PUSH_ID, so no push ID is valid (section 7.2.5).
                throw ConnectionError(Http3ErrorCode.IdError, "a PUSH_PROMISE although this client allows no push");
            case Http3FrameType.Settings or Http3FrameType.GoAway or Http3FrameType.MaxPushId or Http3FrameType.CancelPush:
                throw ConnectionError(Http3ErrorCode.FrameUnexpected, $"frame type 0x{type:x} on a request stream");
            default:
                if (Http3FrameType.IsReservedHttp2(type))
                {
                    throw ConnectionError(Http3ErrorCode.FrameUnexpected, $"the HTTP/2 frame type 0x{type:x}");
                }

                await reader.SkipAsync(length, cancellationToken).ConfigureAwait(false);
                break;
        }
    }

    /// <summary>Decodes a HEADERS payload and sends the decoder stream what it produced (section acknowledgments).</summary>
    internal async Task<List<KeyValuePair<string, string>>> DecodeAsync(byte[] section, long streamId, CancellationToken cancellationToken)
    {
        List<KeyValuePair<string, string>> fields;
        try
        {
            fields = await _decoder.DecodeAsync(section, streamId, cancellationToken).ConfigureAwait(false);
        }
        catch (QpackException failure)
        {
            throw ConnectionError(failure.ErrorCode, failure.Message);
        }

        await FlushDecoderInstructionsAsync().ConfigureAwait(false);
        return fields;
    }

    /// <summary>Closes the connection with H3_NO_ERROR.</summary>
    public async ValueTask DisposeAsync()
    {
        await _closing.CancelAsync().ConfigureAwait(false);
        try
        {
            await _quic.CloseAsync((long)Http3ErrorCode.NoError).ConfigureAwait(false);
        }
        catch (QuicException)
        {
            // Already closed, by the peer or by an error here.
        }

        await _quic.DisposeAsync().ConfigureAwait(false);
        if (_acceptLoop is not null)
        {
            await _acceptLoop.ConfigureAwait(false);
        }

        _closing.Dispose();
        _decoderStreamWrites.Dispose();
    }

    private async Task StartAsync(CancellationToken cancellationToken)
    {
        _control = await _quic.OpenOutboundStreamAsync(QuicStreamType.Unidirectional, cancellationToken).ConfigureAwait(false);
        var settings = new List<byte>();
        foreach ((long id, long value) in (ReadOnlySpan<(long, long)>)[
            (Http3SettingId.QpackMaxTableCapacity, MaxTableCapacity),
            (Http3SettingId.QpackBlockedStreams, MaxBlockedStreams),
            (Http3SettingId.MaxFieldSectionSize, MaxFieldSectionSize)])
        {
            AppendVarInt(settings, id);
            AppendVarInt(settings, value);
        }

        byte[] controlStart = [(byte)Http3StreamType.Control, .. VarInt.Frame(Http3FrameType.Settings, [.. settings])];
        await _control.WriteAsync(controlStart, completeWrites: false, cancellationToken).ConfigureAwait(false);
        _encoderStream = await _quic.OpenOutboundStreamAsync(QuicStreamType.Unidirectional, cancellationToken).ConfigureAwait(false);
        await _encoderStream.WriteAsync(new[] { (byte)Http3StreamType.QpackEncoder }, completeWrites: false, cancellationToken).ConfigureAwait(false);
        _decoderStream = await _quic.OpenOutboundStreamAsync(QuicStreamType.Unidirectional, cancellationToken).ConfigureAwait(false);
        await _decoderStream.WriteAsync(new[] { (byte)Http3StreamType.QpackDecoder }, completeWrites: false, cancellationToken).ConfigureAwait(false);
        _acceptLoop = Task.Run(AcceptPeerStreamsAsync, CancellationToken.None);
    }

    private static void AppendVarInt(List<byte> output, long value)
    {
        Span<byte> bytes = stackalloc byte[8];
        output.AddRange(bytes[..VarInt.Write(bytes, value)]);
    }

    private async Task AcceptPeerStreamsAsync()
    {
        var handlers = new List<Task>();
        try
        {
            while (true)
            {
                QuicStream stream = await _quic.AcceptInboundStreamAsync(_closing.Token).ConfigureAwait(false);
                if (stream.Type == QuicStreamType.Bidirectional)
                {
                    // A server never opens a bidirectional stream in HTTP/3 (section 6.1).
                    throw ConnectionError(Http3ErrorCode.StreamCreationError, "the server opened a bidirectional stream");
                }

                handlers.Add(ServeUnidirectionalAsync(stream));
            }
        }
        catch (Exception failure) when (failure is QuicException or OperationCanceledException or Http3Exception or ObjectDisposedException)
        {
            // The connection is closing or closed; requests learn why from their own streams.
        }

        await Task.WhenAll(handlers).ConfigureAwait(false);
    }

    private async Task ServeUnidirectionalAsync(QuicStream stream)
    {
        await using (stream.ConfigureAwait(false))
        {
            try
            {
                var reader = new Http3FrameReader(stream);
                long? type = await reader.ReadVarIntAsync(_closing.Token).ConfigureAwait(false);
                switch (type)
                {
                    case null:
                        return; // closed before its type: nothing to act on
                    case Http3StreamType.Control:
                        ClaimPeerStream(ref _peerControlSeen, "control");
                        await ServeControlAsync(reader).ConfigureAwait(false);
                        break;
                    case Http3StreamType.QpackEncoder:
                        ClaimPeerStream(ref _peerEncoderSeen, "QPACK encoder");
                        await ServeEncoderStreamAsync(reader).ConfigureAwait(false);
                        break;
                    case Http3StreamType.QpackDecoder:
                        ClaimPeerStream(ref _peerDecoderSeen, "QPACK decoder");
                        await ServeDecoderStreamAsync(reader).ConfigureAwait(false);
                        break;
                    case Http3StreamType.Push:
                        throw ConnectionError(Http3ErrorCode.IdError, "a push stream although this client allows no push");
                    default:
                        // Unknown and reserved types are not for this end (section 6.2).
                        stream.Abort(QuicAbortDirection.Read, (long)Http3ErrorCode.StreamCreationError);
                        break;
                }
            }
            catch (Http3Exception failure)
            {
                await FailAsync(failure).ConfigureAwait(false);
            }
            catch (Exception failure) when (failure is QuicException or OperationCanceledException or ObjectDisposedException)
            {
                if (!_closing.IsCancellationRequested && failure is QuicException { QuicError: QuicError.StreamAborted })
                {
                    await FailAsync(new Http3Exception(Http3ErrorCode.ClosedCriticalStream, "the server reset a critical stream")).ConfigureAwait(false);
                }
            }
        }
    }

    private void ClaimPeerStream(ref bool seen, string what)
    {
        lock (_gate)
        {
            if (seen)
            {
                throw ConnectionError(Http3ErrorCode.StreamCreationError, $"a second {what} stream");
            }

            seen = true;
        }
    }

    /// <summary>The server's control stream: SETTINGS first, then GOAWAY and frames to ignore (section 6.2.1).</summary>
    private async Task ServeControlAsync(Http3FrameReader reader)
    {
        bool first = true;
        while (true)
        {
            (long type, long length) = await reader.ReadFrameHeaderAsync(_closing.Token).ConfigureAwait(false)
                ?? throw ConnectionError(Http3ErrorCode.ClosedCriticalStream, "the server closed its control stream");
            if (first && type != Http3FrameType.Settings)
            {
                throw ConnectionError(Http3ErrorCode.MissingSettings, $"the control stream began with frame type 0x{type:x}, not SETTINGS");
            }

            switch (type)
            {
                case Http3FrameType.Settings when first:
                    OnSettings(await reader.ReadPayloadAsync(length, MaxControlFrameLength, Http3ErrorCode.ExcessiveLoad, "a SETTINGS frame", _closing.Token).ConfigureAwait(false));
                    break;
                case Http3FrameType.GoAway:
                    OnGoAway(await reader.ReadPayloadAsync(length, 8, Http3ErrorCode.FrameError, "a GOAWAY frame", _closing.Token).ConfigureAwait(false));
                    break;
                case Http3FrameType.CancelPush:
                    throw ConnectionError(Http3ErrorCode.IdError, "CANCEL_PUSH although this client allows no push");
                case Http3FrameType.Settings or Http3FrameType.Data or Http3FrameType.Headers or Http3FrameType.PushPromise or Http3FrameType.MaxPushId:
                    throw ConnectionError(Http3ErrorCode.FrameUnexpected, $"frame type 0x{type:x} on the control stream");
                default:
                    if (Http3FrameType.IsReservedHttp2(type))
                    {
                        throw ConnectionError(Http3ErrorCode.FrameUnexpected, $"the HTTP/2 frame type 0x{type:x}");
                    }

                    await reader.SkipAsync(length, _closing.Token).ConfigureAwait(false);
                    break;
            }

            first = false;
        }
    }

    private void OnSettings(byte[] payload)
    {
        // The whole frame is checked before any of it applies.
        var settings = new Dictionary<long, long>();
        ReadOnlySpan<byte> rest = payload;
        while (!rest.IsEmpty)
        {
            long id = ReadVarInt(ref rest, "SETTINGS"), value = ReadVarInt(ref rest, "SETTINGS");
            if (!settings.TryAdd(id, value) || Http3SettingId.IsReservedHttp2(id))
            {
                throw ConnectionError(Http3ErrorCode.SettingsError, $"setting 0x{id:x} is repeated or an HTTP/2 setting");
            }
        }

        if (settings.TryGetValue(Http3SettingId.MaxFieldSectionSize, out long maxFieldSectionSize))
        {
            _peerMaxFieldSectionSize = maxFieldSectionSize;
        }

        PeerSettingsReceived = true;
    }

    private void OnGoAway(byte[] payload)
    {
        ReadOnlySpan<byte> rest = payload;
        long id = ReadVarInt(ref rest, "GOAWAY");
        if (!rest.IsEmpty)
        {
            throw ConnectionError(Http3ErrorCode.FrameError, "a GOAWAY frame longer than its stream ID");
        }

        lock (_gate)
        {
            // A server's GOAWAY names a client-initiated bidirectional stream, and never a larger one than before (section 5.2).
            if (id % 4 != 0 || id > _goAwayStreamId)
            {
                throw ConnectionError(Http3ErrorCode.IdError, $"GOAWAY with stream ID {id}");
            }

            _goAwayStreamId = id;
        }
    }

    private long ReadVarInt(ref ReadOnlySpan<byte> rest, string frame)
    {
        if (rest.IsEmpty || rest.Length < 1 << (rest[0] >> 6))
        {
            throw ConnectionError(Http3ErrorCode.FrameError, $"a truncated {frame} frame");
        }

        int length = 1 << (rest[0] >> 6);
        long value = rest[0] & 0x3F;
        for (int i = 1; i < length; i++)
        {
            value = (value << 8) | rest[i];
        }

        rest = rest[length..];
        return value;
    }

    private async Task ServeEncoderStreamAsync(Http3FrameReader reader)
    {
        byte[] buffer = new byte[4096];
        while (true)
        {
            int n = await reader.ReadSomeAsync(buffer, _closing.Token).ConfigureAwait(false);
            if (n == 0)
            {
                throw ConnectionError(Http3ErrorCode.ClosedCriticalStream, "the server closed its QPACK encoder stream");
            }

            try
            {
                _decoder.OnEncoderStream(buffer.AsSpan(0, n));
            }
            catch (QpackException failure)
            {
                throw ConnectionError(failure.ErrorCode, failure.Message);
            }

            await FlushDecoderInstructionsAsync().ConfigureAwait(false);
        }
    }

    /// <summary>
    /// The server's decoder stream. This client's encoder never inserts, so the only valid
    /// instruction is Stream Cancellation; a Section Acknowledgment or an Insert Count Increment
    /// acknowledges what was never sent (RFC 9204 section 4.4).
    /// </summary>
    private async Task ServeDecoderStreamAsync(Http3FrameReader reader)
    {
        byte[] buffer = new byte[256];
        int pending = 0;
        while (true)
        {
            int n = await reader.ReadSomeAsync(buffer.AsMemory(pending), _closing.Token).ConfigureAwait(false);
            if (n == 0)
            {
                throw ConnectionError(Http3ErrorCode.ClosedCriticalStream, "the server closed its QPACK decoder stream");
            }

            pending += n;
            var instructions = new QpackReader(buffer.AsSpan(0, pending), Http3ErrorCode.QpackDecoderStreamError);
            int consumed = 0;
            while (!instructions.AtEnd)
            {
                if ((instructions.Peek() & 0xC0) != 0x40)
                {
                    throw ConnectionError(Http3ErrorCode.QpackDecoderStreamError, "an acknowledgment of QPACK state this client never created");
                }

                if (!instructions.TryReadInteger(6, out _))
                {
                    break;
                }

                consumed = instructions.Position;
            }

            buffer.AsSpan(consumed, pending - consumed).CopyTo(buffer);
            pending -= consumed;
            if (pending == buffer.Length)
            {
                throw ConnectionError(Http3ErrorCode.QpackDecoderStreamError, "an overlong decoder instruction");
            }
        }
    }

    private async Task FlushDecoderInstructionsAsync()
    {
        await _decoderStreamWrites.WaitAsync().ConfigureAwait(false);
        try
        {
            byte[] instructions = _decoder.TakeDecoderInstructions();
            if (instructions.Length > 0 && _decoderStream is not null)
            {
                await _decoderStream.WriteAsync(instructions, completeWrites: false).ConfigureAwait(false);
            }
        }
        finally
        {
            _decoderStreamWrites.Release();
        }
    }

    /// <summary>Records a connection error, closes the QUIC connection with its code, and returns it to throw.</summary>
    internal Http3Exception ConnectionError(Http3ErrorCode code, string reason)
    {
        var failure = new Http3Exception(code, $"HTTP/3 connection error {code} (0x{(long)code:x}): {reason}");
        _ = FailAsync(failure);
        return failure;
    }

    private async Task FailAsync(Http3Exception failure)
    {
        lock (_gate)
        {
            if (_failure is not null)
            {
                return;
            }

            _failure = failure;
        }

        try
        {
            await _quic.CloseAsync((long)failure.ErrorCode).ConfigureAwait(false);
        }
        catch (QuicException)
        {
        }
    }

    private void ThrowIfFailed()
    {
        lock (_gate)
        {
            if (_failure is not null)
            {
                throw new Http3Exception(_failure.ErrorCode, _failure.Message, _failure);
            }
        }
    }

    /// <summary>What a request's caller sees: the connection's own error if it failed, the peer's HTTP/3 code if it reset or closed, else the failure itself.</summary>
    internal Exception Translate(Exception failure)
    {
        lock (_gate)
        {
            if (_failure is not null && failure is not Http3Exception)
            {
                return new Http3Exception(_failure.ErrorCode, _failure.Message, failure);
            }
        }

        return failure switch
        {
            QuicException { ApplicationErrorCode: long code } quic => new Http3Exception((Http3ErrorCode)code,
                quic.QuicError == QuicError.StreamAborted ? $"the server reset the request stream with {(Http3ErrorCode)code}" : $"the connection closed with {(Http3ErrorCode)code}", quic),
            _ => failure,
        };
    }

    /// <summary>Stops a request whose response will not be read: a stream error tells the server (section 4.1.1).</summary>
    internal static async ValueTask AbandonAsync(QuicStream stream, Exception? failure)
    {
        Http3ErrorCode code = failure is Http3Exception { ErrorCode: Http3ErrorCode.MessageError or Http3ErrorCode.ExcessiveLoad } h3 ? h3.ErrorCode : Http3ErrorCode.RequestCancelled;
        if (!stream.ReadsCompleted)
        {
            stream.Abort(QuicAbortDirection.Read, (long)code);
        }

        await stream.DisposeAsync().ConfigureAwait(false);
    }
}
