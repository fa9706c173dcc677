using System.Globalization;
using Mallard.Http3.Frames;
using Mallard.Quic;

namespace Mallard.Http3;

/// <summary>
/// A response whose headers have arrived; its body is read from <see cref="Content"/>. Disposing
/// a response before its body is read to the end cancels the request (H3_REQUEST_CANCELLED).
/// </summary>
public sealed class Http3Response : IAsyncDisposable
{
    private readonly QuicStream _stream;
    private readonly Http3ResponseContent _content;

    internal Http3Response(Http3ClientConnection connection, QuicStream stream, Http3FrameReader reader, int statusCode,
        List<KeyValuePair<string, string>> headers, bool noContent)
    {
        _stream = stream;
        StatusCode = statusCode;
        Headers = headers;
        long? declared = null;
        foreach ((string name, string value) in headers)
        {
            if (name == "content-length")
            {
                declared = long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out long length) && (declared is null || declared == length)
                    ? length
                    : throw new Http3Exception(Http3ErrorCode.MessageError, $"malformed response: content-length \"{value}\"");
            }
        }

        _content = new Http3ResponseContent(connection, stream, reader, noContent ? 0 : declared);
    }

    /// <summary>The status code (200 and above; interim responses are not surfaced).</summary>
    public int StatusCode { get; }

    /// <summary>The header fields in the order they arrived, names in lower case, without pseudo-headers.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Headers { get; }

    /// <summary>The body, as the DATA frames carry it. A length that differs from content-length fails the read with H3_MESSAGE_ERROR.</summary>
    public Stream Content => _content;

    /// <summary>Trailer fields, once <see cref="Content"/> has been read to its end; empty before or without them.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Trailers => _content.Trailers;

    /// <summary>The first value of header <paramref name="name"/> (lower case), or null.</summary>
    public string? Header(string name) => Headers.FirstOrDefault(h => h.Key == name).Value;

    /// <summary>Reads the whole body.</summary>
    public async Task<byte[]> ReadContentAsync(CancellationToken cancellationToken = default)
    {
        using var body = new MemoryStream();
        await _content.CopyToAsync(body, cancellationToken).ConfigureAwait(false);
        return body.ToArray();
    }

    /// <summary>Releases the request stream, cancelling the request if its body was not read to the end.</summary>
    public ValueTask DisposeAsync() => Http3ClientConnection.AbandonAsync(_stream, null);
}
