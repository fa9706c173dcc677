namespace Mallard.Http3.Frames;

/// <summary>Unidirectional stream types (RFC 9114 section 6.2, RFC 9204 section 4.2).</summary>
internal static class Http3StreamType
{
    public const long Control = 0x00;
    public const long Push = 0x01;
    public const long QpackEncoder = 0x02;
    public const long QpackDecoder = 0x03;
}
