namespace Mallard.Http3.Frames;

/// <summary>SETTINGS identifiers (RFC 9114 section 7.2.4.1, RFC 9204 section 5).</summary>
internal static class Http3SettingId
{
    public const long QpackMaxTableCapacity = 0x01;
    public const long MaxFieldSectionSize = 0x06;
    public const long QpackBlockedStreams = 0x07;

    /// <summary>HTTP/2 settings with no HTTP/3 meaning: receiving one is H3_SETTINGS_ERROR (section 7.2.4.1).</summary>
    public static bool IsReservedHttp2(long id) => id is 0x02 or 0x03 or 0x04 or 0x05;
}
