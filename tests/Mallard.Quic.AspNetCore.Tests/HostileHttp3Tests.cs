namespace Mallard.Quic.AspNetCore.Tests;

/// <summary>
/// What a hostile or broken HTTP/3 client gets from Kestrel on Mallard.Quic: the RFC 9114 error,
/// on the stream or the connection as the RFC says, carried by the transport to the client — and a
/// server that goes on serving. Frames are written by hand (<see cref="RawHttp3Connection"/>).
/// </summary>
public class HostileHttp3Tests
{
    private const long FrameUnexpected = 0x105, StreamCreationError = 0x103, RequestIncomplete = 0x10d;

    /// <summary>Unknown frame types and unknown unidirectional stream types are ignored (RFC 9114 section 9).</summary>
    [Fact]
    public async Task UnknownFrameAndStreamTypesAreIgnored()
    {
        await using Http3TestApp app = await Http3TestApp.StartAsync();
        await using RawHttp3Connection raw = await RawHttp3Connection.ConnectAsync(app.Endpoint);

        byte[] plain = await raw.RequestAsync(RawHttp3Connection.GetHeaders("/hello"));
        Assert.EndsWith("hello over HTTP/3\n", System.Text.Encoding.ASCII.GetString(plain), StringComparison.Ordinal);

        // A reserved frame type (0x21, section 7.2.8) before HEADERS, and a reserved stream type.
        byte[] withUnknownFrame = await raw.RequestAsync([.. RawHttp3Connection.Frame(0x21, [1, 2, 3]), .. RawHttp3Connection.GetHeaders("/hello")]);
        await raw.OpenUnidirectionalAsync([0x21, 0xde, 0xad, 0xbe, 0xef]);
        byte[] afterUnknownStream = await raw.RequestAsync(RawHttp3Connection.GetHeaders("/hello"));

        Assert.Equal(plain.Length, withUnknownFrame.Length);
        Assert.Equal(plain.Length, afterUnknownStream.Length);
    }

    public static TheoryData<string, byte[], long> ConnectionErrors => new()
    {
        // DATA before HEADERS on a request stream (section 4.1).
        { "DATA first", RawHttp3Connection.Frame(0x00, [1, 2, 3]), FrameUnexpected },
        // SETTINGS belongs on the control stream only (section 7.2.4).
        { "SETTINGS on a request stream", RawHttp3Connection.Frame(0x04, []), FrameUnexpected },
    };

    [Theory]
    [MemberData(nameof(ConnectionErrors))]
    public async Task AFrameWhereItMayNotBeClosesTheConnectionWithFrameUnexpected(string what, byte[] request, long code)
    {
        await using Http3TestApp app = await Http3TestApp.StartAsync();
        await using RawHttp3Connection raw = await RawHttp3Connection.ConnectAsync(app.Endpoint);

        var error = await Assert.ThrowsAsync<QuicException>(() => raw.RequestAsync(request));

        Assert.True(error.QuicError == QuicError.ConnectionAborted && error.ApplicationErrorCode == code, $"{what}: {error.QuicError} 0x{error.ApplicationErrorCode:x}");
        Assert.Equal(code, error.ApplicationErrorCode);
    }

    /// <summary>A second control stream is a connection error H3_STREAM_CREATION_ERROR (section 6.2.1).</summary>
    [Fact]
    public async Task ASecondControlStreamIsAStreamCreationError()
    {
        await using Http3TestApp app = await Http3TestApp.StartAsync();
        await using RawHttp3Connection raw = await RawHttp3Connection.ConnectAsync(app.Endpoint);

        await raw.OpenUnidirectionalAsync([0x00, 0x04, 0x00]);
        var error = await Assert.ThrowsAsync<QuicException>(async () =>
        {
            for (int i = 0; i < 100; i++) // until the close arrives
            {
                await raw.RequestAsync(RawHttp3Connection.GetHeaders("/hello"));
                await Task.Delay(50);
            }
        });

        Assert.Equal(QuicError.ConnectionAborted, error.QuicError);
        Assert.Equal(StreamCreationError, error.ApplicationErrorCode);
    }

    /// <summary>A request stream that ends inside a frame is H3_REQUEST_INCOMPLETE (section 4.1.2), on that stream only.</summary>
    [Fact]
    public async Task ARequestEndingInsideAFrameIsIncomplete()
    {
        await using Http3TestApp app = await Http3TestApp.StartAsync();
        await using RawHttp3Connection raw = await RawHttp3Connection.ConnectAsync(app.Endpoint);

        var error = await Assert.ThrowsAsync<QuicException>(() => raw.RequestAsync([.. RawHttp3Connection.VarInt(0x01), .. RawHttp3Connection.VarInt(1_000), 0, 0]));

        Assert.Equal(QuicError.StreamAborted, error.QuicError);
        Assert.Equal(RequestIncomplete, error.ApplicationErrorCode);
        Assert.NotEmpty(await raw.RequestAsync(RawHttp3Connection.GetHeaders("/hello"))); // the connection serves on
    }

    /// <summary>
    /// A HEADERS frame that announces 10 MB is refused before it arrives: the server stops the
    /// stream (Kestrel: STOP_SENDING with H3_INTERNAL_ERROR) and serves the next request. What the
    /// server can be made to hold meanwhile is bounded by the stream's flow-control window (128 KiB
    /// at first, growing only as Kestrel reads) and the transport's pipe (64 KiB before its read
    /// pump pauses); the count here is what the client's own send buffer (4 MiB) took besides.
    /// </summary>
    [Fact]
    public async Task AnEndlessHeadersFrameIsStoppedEarly()
    {
        await using Http3TestApp app = await Http3TestApp.StartAsync();
        await using RawHttp3Connection raw = await RawHttp3Connection.ConnectAsync(app.Endpoint);
        await using QuicStream stream = await raw.Connection.OpenOutboundStreamAsync(QuicStreamType.Bidirectional);
        await stream.WriteAsync((byte[])[.. RawHttp3Connection.VarInt(0x01), .. RawHttp3Connection.VarInt(10_000_000), 0, 0]);

        long sent = 0;
        var chunk = new byte[16_384];
        var error = await Assert.ThrowsAsync<QuicException>(async () =>
        {
            while (sent < 10_000_000)
            {
                await stream.WriteAsync(chunk).AsTask().WaitAsync(TimeSpan.FromSeconds(30));
                sent += chunk.Length;
            }
        });

        Assert.Equal(QuicError.StreamAborted, error.QuicError);
        // Stopped well before the announced 10 MB: the client got rid of its own 4 MiB buffer plus
        // what the server acknowledged within its window, no more.
        Assert.True(sent < 5_000_000, $"{sent} octets of one field section were taken before the stream was stopped");
        Assert.NotEmpty(await raw.RequestAsync(RawHttp3Connection.GetHeaders("/hello")));
    }

    /// <summary>
    /// A field section that does not decode resets its stream (Kestrel: H3_INTERNAL_ERROR; RFC 9204
    /// section 6 would make it the connection error QPACK_DECOMPRESSION_FAILED — Kestrel's choice,
    /// the transport only carries it), and the connection serves on.
    /// </summary>
    [Fact]
    public async Task AFieldSectionThatDoesNotDecodeResetsItsStream()
    {
        await using Http3TestApp app = await Http3TestApp.StartAsync();
        await using RawHttp3Connection raw = await RawHttp3Connection.ConnectAsync(app.Endpoint);

        var error = await Assert.ThrowsAsync<QuicException>(() => raw.RequestAsync(RawHttp3Connection.Frame(0x01, [0x00, 0x00, 0xFF, 0xFF, 0xFF])));

        Assert.Equal(QuicError.StreamAborted, error.QuicError);
        Assert.NotEmpty(await raw.RequestAsync(RawHttp3Connection.GetHeaders("/hello")));
    }
}
