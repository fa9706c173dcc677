using System.Net;
using System.Text;

namespace Mallard.Quic.AspNetCore.Tests;

/// <summary>
/// A hand-driven HTTP/3 client on Mallard.Quic for hostile-input tests: it writes frames and
/// streams byte by byte (RFC 9114 section 7, QPACK field sections of RFC 9204 with static-table
/// references and literals only), so that it can also write what no real client would.
/// </summary>
internal sealed class RawHttp3Connection : IAsyncDisposable
{
    private readonly QuicConnection _connection;

    private RawHttp3Connection(QuicConnection connection) => _connection = connection;

    public QuicConnection Connection => _connection;

    /// <summary>Connects with ALPN h3 and opens the control stream with an empty SETTINGS frame.</summary>
    public static async Task<RawHttp3Connection> ConnectAsync(IPEndPoint server)
    {
        QuicConnection connection = await QuicConnection.ConnectAsync(new QuicClientConnectionOptions
        {
            RemoteEndPoint = server,
            ApplicationProtocols = ["h3"],
            SkipCertificateValidation = true,
        });
        var raw = new RawHttp3Connection(connection);
        await raw.OpenUnidirectionalAsync([0x00, 0x04, 0x00]); // control stream (type 0), SETTINGS with no settings
        return raw;
    }

    /// <summary>Opens a unidirectional stream and writes <paramref name="bytes"/> (its type first), leaving it open.</summary>
    public async Task<QuicStream> OpenUnidirectionalAsync(byte[] bytes)
    {
        QuicStream stream = await _connection.OpenOutboundStreamAsync(QuicStreamType.Unidirectional);
        await stream.WriteAsync(bytes);
        return stream;
    }

    /// <summary>Opens a request stream, writes <paramref name="bytes"/> and the FIN, and reads the whole answer.</summary>
    public async Task<byte[]> RequestAsync(byte[] bytes)
    {
        await using QuicStream stream = await _connection.OpenOutboundStreamAsync(QuicStreamType.Bidirectional);
        await stream.WriteAsync(bytes, completeWrites: true);
        using var response = new MemoryStream();
        await stream.CopyToAsync(response).WaitAsync(TimeSpan.FromSeconds(20));
        return response.ToArray();
    }

    /// <summary>A HEADERS frame for <c>GET https://127.0.0.1{path}</c>.</summary>
    public static byte[] GetHeaders(string path)
    {
        var section = new List<byte> { 0x00, 0x00 }; // Required Insert Count 0, Delta Base 0: no dynamic table
        section.Add(0xC0 | 17); // indexed field line, static 17: :method GET
        section.Add(0xC0 | 23); // static 23: :scheme https
        section.AddRange(LiteralWithStaticName(0, "127.0.0.1")); // :authority
        section.AddRange(LiteralWithStaticName(1, path)); // :path
        return Frame(0x01, [.. section]);
    }

    /// <summary>An HTTP/3 frame: type and length as variable-length integers (RFC 9000 section 16), then the payload.</summary>
    public static byte[] Frame(long type, byte[] payload) => [.. VarInt(type), .. VarInt(payload.Length), .. payload];

    public static byte[] VarInt(long value) => value switch
    {
        < 64 => [(byte)value],
        < 16_384 => [(byte)(0x40 | (value >> 8)), (byte)value],
        < 1_073_741_824 => [(byte)(0x80 | (value >> 24)), (byte)(value >> 16), (byte)(value >> 8), (byte)value],
        _ => [(byte)(0xC0 | (value >> 56)), (byte)(value >> 48), (byte)(value >> 40), (byte)(value >> 32), (byte)(value >> 24), (byte)(value >> 16), (byte)(value >> 8), (byte)value],
    };

    // Literal field line with name reference, static table (RFC 9204 section 4.5.4): 01NT + 4-bit index, then the value (no Huffman).
    private static byte[] LiteralWithStaticName(int index, string value)
    {
        byte[] text = Encoding.ASCII.GetBytes(value);
        return [(byte)(0x50 | index), (byte)text.Length, .. text];
    }

    public ValueTask DisposeAsync() => _connection.DisposeAsync();
}
