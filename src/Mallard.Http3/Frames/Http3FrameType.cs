namespace Mallard.Http3.Frames;

/// <summary>HTTP/3 frame types (RFC 9114 section 7.2) and the HTTP/2 ones it reserves (section 7.2.8).</summary>
internal static class Http3FrameType
{
    public const long Data = 0x00;
    public const long Headers = 0x01;
    public const long CancelPush = 0x03;
    public const long Settings = 0x04;
    public const long PushPromise = 0x05;
    public const long GoAway = 0x07;
    public const long MaxPushId = 0x0d;

    /// <summary>HTTP/2's PRIORITY, PING, WINDOW_UPDATE and CONTINUATION: receiving one is H3_FRAME_UNEXPECTED.</summary>
    public static bool IsReservedHttp2(long type) => type is 0x02 or 0x06 or 0x08 or 0x09;
}
