using System.Globalization;

namespace Mallard.Http3;

/// <summary>
/// What makes an HTTP/3 message well-formed (RFC 9114 section 4.1.2, 4.2 and 4.3): lower-case
/// field names, pseudo-header fields first and only the ones the message kind allows, no
/// connection-specific fields. A malformed response is a stream error H3_MESSAGE_ERROR.
/// </summary>
internal static class Http3MessageRules
{
    private static readonly HashSet<string> ConnectionSpecific = ["connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade"];

    /// <summary>The response's status and its fields without pseudo-headers, or H3_MESSAGE_ERROR.</summary>
    public static (int Status, List<KeyValuePair<string, string>> Headers) ValidateResponse(List<KeyValuePair<string, string>> fields)
    {
        int status = -1;
        bool regularSeen = false;
        var headers = new List<KeyValuePair<string, string>>(fields.Count);
        foreach ((string name, string value) in fields)
        {
            if (name.StartsWith(':'))
            {
                if (name != ":status" || status >= 0 || regularSeen)
                {
                    throw Malformed($"pseudo-header \"{name}\" is not one :status before the other fields");
                }

                if (value.Length != 3 || !int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out status) || status < 100)
                {
                    throw Malformed($":status \"{value}\" is not a three-digit code");
                }

                continue;
            }

            regularSeen = true;
            CheckRegularField(name, value);
            headers.Add(new(name, value));
        }

        return status < 0 ? throw Malformed("the response has no :status") : (status, headers);
    }

    /// <summary>Trailers: regular fields only (section 4.1).</summary>
    public static List<KeyValuePair<string, string>> ValidateTrailers(List<KeyValuePair<string, string>> fields)
    {
        foreach ((string name, string value) in fields)
        {
            if (name.StartsWith(':'))
            {
                throw Malformed($"pseudo-header \"{name}\" in trailers");
            }

            CheckRegularField(name, value);
        }

        return fields;
    }

    /// <summary>A request header name as sent: lower case; connection-specific ones and pseudo-headers refused.</summary>
    public static string RequestHeaderName(string name)
    {
        string lower = name.ToLowerInvariant();
        if (lower.Length == 0 || lower.StartsWith(':') || ConnectionSpecific.Contains(lower) || lower == "host")
        {
            throw new ArgumentException($"header \"{name}\" cannot be sent over HTTP/3 (RFC 9114 section 4.2): pseudo-headers come from the method and URI, and connection-specific fields do not exist");
        }

        return lower;
    }

    private static void CheckRegularField(string name, string value)
    {
        foreach (char c in name)
        {
            if (c is >= 'A' and <= 'Z' || c <= ' ' || c >= 0x7F)
            {
                throw Malformed($"field name \"{name}\" has a character HTTP/3 forbids");
            }
        }

        if (ConnectionSpecific.Contains(name) || (name == "te" && value != "trailers"))
        {
            throw Malformed($"connection-specific field \"{name}\"");
        }

        if (value.Contains('\0') || value.Contains('\r') || value.Contains('\n'))
        {
            throw Malformed($"field \"{name}\" has a value with NUL, CR or LF");
        }
    }

    private static Http3Exception Malformed(string reason) => new(Http3ErrorCode.MessageError, $"malformed response: {reason}");
}
