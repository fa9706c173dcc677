using Mallard.Http3.Frames;
using Mallard.Quic;
using static Mallard.Http3.Tests.ScriptedHttp3Server;

namespace Mallard.Http3.Tests;

/// <summary>
/// The client against a scripted server: what RFC 9114 says to ignore is ignored, and each
/// violation fails the request and closes the connection with the code the RFC names.
/// </summary>
public class Http3ClientConnectionTests
{
    private static readonly byte[] Body = [.. Enumerable.Range(0, 5000).Select(i => (byte)i)];

    [Fact]
    public async Task UnknownFramesStreamsAndSettingsAreIgnoredAndTrailersRead()
    {
        await using ScriptedHttp3Server server = await StartAsync();
        Task serving = Task.Run(async () =>
        {
            QuicConnection connection = await server.AcceptAsync();
            // An unknown setting (a reserved 0x1f * N + 0x21 identifier), an unknown frame on the control stream, an unknown stream type.
            await OpenUnidirectionalAsync(connection, [.. ControlWithSettings([.. Integer(0x21), .. Integer(7)]), .. Frame(0x21, [1, 2, 3])]);
            await OpenUnidirectionalAsync(connection, [.. Integer(0x40), 9, 9, 9], close: true);
            QuicStream request = await server.AcceptRequestAsync(connection);
            await request.WriteAsync((byte[])[.. Frame(0x21, new byte[300]), .. Headers((":status", "200"), ("content-length", "5000")),
                .. Data(Body[..1000]), .. Frame(0x3e, [7]), .. Data(Body[1000..]), .. Headers(("x-checksum", "ok"))], completeWrites: true);
            await ClientCloseCodeAsync(connection);
        });

        await using (Http3ClientConnection client = await server.ConnectClientAsync())
        {
            await using Http3Response response = await client.GetAsync(server.Url("/file"));
            Assert.Equal(200, response.StatusCode);
            Assert.Equal(Body, await response.ReadContentAsync());
            Assert.Equal([new("x-checksum", "ok")], response.Trailers);

            // The SETTINGS travel on the control stream, independently of the response: they may come second.
            for (int i = 0; i < 500 && !client.PeerSettingsReceived; i++)
            {
                await Task.Delay(10);
            }

            Assert.True(client.PeerSettingsReceived);
        }

        await serving.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task ADynamicTableEntryThatArrivesAfterItsSectionUnblocksIt()
    {
        await using ScriptedHttp3Server server = await StartAsync();
        Task serving = Task.Run(async () =>
        {
            QuicConnection connection = await server.AcceptAsync();
            await OpenUnidirectionalAsync(connection, ControlWithSettings());
            QuicStream request = await server.AcceptRequestAsync(connection);
            // Required Insert Count 1, Base 1: :status 200 from the static table, then relative index 0, the entry inserted next.
            await request.WriteAsync((byte[])[.. Frame(Http3FrameType.Headers, [0x02, 0x00, 0xd9, 0x80]), .. Data([42])], completeWrites: true);
            await Task.Delay(100);
            // Set Dynamic Table Capacity 100; Insert With Literal Name "x-late" = "yes".
            await OpenUnidirectionalAsync(connection, [(byte)Http3StreamType.QpackEncoder, 0x3f, 0x45, 0x46, .. "x-late"u8, 0x03, .. "yes"u8]);
            await ClientCloseCodeAsync(connection);
        });

        await using (Http3ClientConnection client = await server.ConnectClientAsync())
        {
            await using Http3Response response = await client.GetAsync(server.Url());
            Assert.Equal("yes", response.Header("x-late"));
            Assert.Equal(1, client.QpackDynamicTableInserts);
        }

        await serving.WaitAsync(TimeSpan.FromSeconds(10));
    }

    public static TheoryData<string, Http3ErrorCode> ConnectionErrors => new()
    {
        { "control stream begins with GOAWAY", Http3ErrorCode.MissingSettings },
        { "a repeated setting", Http3ErrorCode.SettingsError },
        { "an HTTP/2 setting", Http3ErrorCode.SettingsError },
        { "a second SETTINGS", Http3ErrorCode.FrameUnexpected },
        { "the control stream closes", Http3ErrorCode.ClosedCriticalStream },
        { "a second control stream", Http3ErrorCode.StreamCreationError },
        { "a push stream", Http3ErrorCode.IdError },
        { "a bidirectional stream from the server", Http3ErrorCode.StreamCreationError },
        { "DATA before HEADERS", Http3ErrorCode.FrameUnexpected },
        { "an HTTP/2 PING frame on the request stream", Http3ErrorCode.FrameUnexpected },
        { "PUSH_PROMISE", Http3ErrorCode.IdError },
        { "a dynamic table larger than offered", Http3ErrorCode.QpackEncoderStreamError },
        { "a field section referencing nothing", Http3ErrorCode.QpackDecompressionFailed },
        { "a GOAWAY naming a stream no client opens", Http3ErrorCode.IdError },
    };

    [Theory]
    [MemberData(nameof(ConnectionErrors))]
    public async Task AViolationClosesTheConnectionWithTheRfcError(string violation, Http3ErrorCode expected)
    {
        await using ScriptedHttp3Server server = await StartAsync();
        Task<long?> closedWith = Task.Run(async () =>
        {
            QuicConnection connection = await server.AcceptAsync();
            byte[] control = violation switch
            {
                "control stream begins with GOAWAY" => [(byte)Http3StreamType.Control, .. Frame(Http3FrameType.GoAway, [0])],
                "a repeated setting" => ControlWithSettings([0x06, 0x10, 0x06, 0x10]),
                "an HTTP/2 setting" => ControlWithSettings([0x02, 0x00]),
                "a second SETTINGS" => [.. ControlWithSettings(), .. Frame(Http3FrameType.Settings, [])],
                "a GOAWAY naming a stream no client opens" => [.. ControlWithSettings(), .. Frame(Http3FrameType.GoAway, [0x02])],
                _ => ControlWithSettings(),
            };
            await OpenUnidirectionalAsync(connection, control, close: violation == "the control stream closes");
            switch (violation)
            {
                case "a second control stream":
                    await OpenUnidirectionalAsync(connection, ControlWithSettings());
                    break;
                case "a push stream":
                    await OpenUnidirectionalAsync(connection, [(byte)Http3StreamType.Push, 0]);
                    break;
                case "a bidirectional stream from the server":
                    QuicStream bidirectional = await connection.OpenOutboundStreamAsync(QuicStreamType.Bidirectional);
                    await bidirectional.WriteAsync(Headers((":status", "200")));
                    break;
                case "a dynamic table larger than offered":
                    await OpenUnidirectionalAsync(connection, [(byte)Http3StreamType.QpackEncoder, 0x3f, 0xe2, 0x1f]); // capacity 4097
                    break;
            }

            byte[] response = violation switch
            {
                "DATA before HEADERS" => Data([1]),
                "an HTTP/2 PING frame on the request stream" => Frame(0x06, new byte[8]),
                "PUSH_PROMISE" => Frame(Http3FrameType.PushPromise, [0x00, 0x00, 0x00]),
                "a field section referencing nothing" => Frame(Http3FrameType.Headers, [0x00, 0x00, 0x80]),
                _ => [],
            };

            // Answer requests with the violation until the client closes the connection.
            var held = new List<QuicStream>();
            try
            {
                while (true)
                {
                    QuicStream stream = await connection.AcceptInboundStreamAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
                    held.Add(stream);
                    if (stream.Type == QuicStreamType.Bidirectional && response.Length > 0)
                    {
                        await stream.WriteAsync(response, completeWrites: false);
                    }
                }
            }
            catch (QuicException closed)
            {
                return closed.ApplicationErrorCode;
            }
        });

        await using Http3ClientConnection client = await server.ConnectClientAsync();
        var failure = await Assert.ThrowsAsync<Http3Exception>(() => client.GetAsync(server.Url()).WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.True(expected == failure.ErrorCode, $"{violation}: {failure.ErrorCode} ({failure.Message})");
        Assert.Equal((long)expected, await closedWith.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    public static TheoryData<string> MalformedResponses => new()
    {
        "no :status",
        "a request pseudo-header",
        "an upper-case field name",
        "a connection-specific field",
        "a body longer than content-length",
        "a body shorter than content-length",
    };

    [Theory]
    [MemberData(nameof(MalformedResponses))]
    public async Task AMalformedResponseIsAMessageErrorOnItsStreamOnly(string malformation)
    {
        await using ScriptedHttp3Server server = await StartAsync();
        Task serving = Task.Run(async () =>
        {
            QuicConnection connection = await server.AcceptAsync();
            await OpenUnidirectionalAsync(connection, ControlWithSettings());
            QuicStream request = await server.AcceptRequestAsync(connection);
            byte[] response = malformation switch
            {
                "no :status" => Headers(("content-type", "text/plain")),
                "a request pseudo-header" => Headers((":status", "200"), (":path", "/")),
                "an upper-case field name" => Headers((":status", "200"), ("Content-Type", "text/plain")),
                "a connection-specific field" => Headers((":status", "200"), ("connection", "close")),
                "a body longer than content-length" => [.. Headers((":status", "200"), ("content-length", "2")), .. Data([1, 2, 3])],
                _ => [.. Headers((":status", "200"), ("content-length", "4")), .. Data([1, 2, 3])],
            };
            await request.WriteAsync(response, completeWrites: true);

            // The connection stays: a second request is answered.
            QuicStream second = await server.AcceptRequestAsync(connection);
            await second.WriteAsync(Headers((":status", "204")), completeWrites: true);
            await ClientCloseCodeAsync(connection);
        });

        await using (Http3ClientConnection client = await server.ConnectClientAsync())
        {
            var failure = await Assert.ThrowsAsync<Http3Exception>(async () =>
            {
                await using Http3Response response = await client.GetAsync(server.Url());
                await response.ReadContentAsync();
            });
            Assert.Equal(Http3ErrorCode.MessageError, failure.ErrorCode);

            await using Http3Response next = await client.GetAsync(server.Url());
            Assert.Equal(204, next.StatusCode);
        }

        await serving.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task ARequestHeaderHttp3ForbidsIsRefusedBeforeSending()
    {
        await using ScriptedHttp3Server server = await StartAsync();
        // No server script: the refusal happens before anything is sent.
        await using Http3ClientConnection client = await server.ConnectClientAsync();
        var refused = await Assert.ThrowsAsync<ArgumentException>(() => client.SendAsync(HttpMethod.Get, server.Url(), [new("Connection", "keep-alive")]));
        Assert.Contains("Connection", refused.Message, StringComparison.Ordinal);
    }
}
