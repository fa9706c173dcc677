using System.Net;
using Mallard.Http3.Frames;
using Mallard.Http3.Qpack;
using Mallard.Quic;

namespace Mallard.Http3.Tests;

/// <summary>
/// A hand-scripted HTTP/3 server on Mallard.Quic's listener: it writes whatever bytes a test
/// gives it — well-formed, unusual or hostile — so that the client's reaction to each can be
/// checked, including the error code it closes the connection with.
/// </summary>
internal sealed class ScriptedHttp3Server : IAsyncDisposable
{
    private readonly QuicListener _listener;
    private readonly List<QuicStream> _clientStreams = [];

    private ScriptedHttp3Server(QuicListener listener) => _listener = listener;

    public static async Task<ScriptedHttp3Server> StartAsync() => new(await QuicListener.ListenAsync(new QuicListenerOptions
    {
        ListenEndPoint = new IPEndPoint(IPAddress.Loopback, 0),
        ApplicationProtocols = ["h3"],
    }));

    public Uri Url(string path = "/") => new($"https://127.0.0.1:{_listener.LocalEndPoint.Port}{path}");

    public Task<Http3ClientConnection> ConnectClientAsync() => Http3ClientConnection.ConnectAsync(new QuicClientConnectionOptions
    {
        RemoteEndPoint = _listener.LocalEndPoint,
        ApplicationProtocols = ["h3"],
        SkipCertificateValidation = true,
    });

    public ValueTask<QuicConnection> AcceptAsync() => _listener.AcceptConnectionAsync();

    public static byte[] Frame(long type, byte[] payload) => VarInt.Frame(type, payload);

    public static byte[] Integer(long value)
    {
        byte[] bytes = new byte[8];
        return bytes[..VarInt.Write(bytes, value)];
    }

    public static byte[] Headers(params (string Name, string Value)[] fields) =>
        Frame(Http3FrameType.Headers, QpackWriter.EncodeFieldSection(fields.Select(f => new KeyValuePair<string, string>(f.Name, f.Value))));

    public static byte[] Data(byte[] payload) => Frame(Http3FrameType.Data, payload);

    /// <summary>A control stream's opening: its type and an empty SETTINGS frame.</summary>
    public static byte[] ControlWithSettings(params byte[] settings) => [(byte)Http3StreamType.Control, .. Frame(Http3FrameType.Settings, settings)];

    /// <summary>Opens a unidirectional stream and writes <paramref name="bytes"/> (left open unless <paramref name="close"/>).</summary>
    public static async Task<QuicStream> OpenUnidirectionalAsync(QuicConnection connection, byte[] bytes, bool close = false)
    {
        QuicStream stream = await connection.OpenOutboundStreamAsync(QuicStreamType.Unidirectional);
        await stream.WriteAsync(bytes, completeWrites: close);
        return stream;
    }

    /// <summary>The next request stream, read to its end (the client's own unidirectional streams are kept open).</summary>
    public async Task<QuicStream> AcceptRequestAsync(QuicConnection connection)
    {
        while (true)
        {
            QuicStream stream = await connection.AcceptInboundStreamAsync();
            if (stream.Type == QuicStreamType.Unidirectional)
            {
                _clientStreams.Add(stream);
                continue;
            }

            byte[] buffer = new byte[4096];
            while (await stream.ReadAsync(buffer) > 0)
            {
            }

            return stream;
        }
    }

    /// <summary>The application error code the client closed the connection with.</summary>
    public static async Task<long?> ClientCloseCodeAsync(QuicConnection connection)
    {
        try
        {
            while (true)
            {
                await connection.AcceptInboundStreamAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
            }
        }
        catch (QuicException closed)
        {
            return closed.ApplicationErrorCode;
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (QuicStream stream in _clientStreams)
        {
            await stream.DisposeAsync();
        }

        await _listener.DisposeAsync();
    }
}
