namespace Mallard.Quic;

/// <summary>Which halves of a stream <see cref="QuicStream.Abort"/> ends.</summary>
[Flags]
public enum QuicAbortDirection
{
    /// <summary>Stop reading: STOP_SENDING (RFC 9000 section 19.5).</summary>
    Read = 1,

    /// <summary>Stop writing: RESET_STREAM (RFC 9000 section 19.4).</summary>
    Write = 2,

    /// <summary>Both.</summary>
    Both = Read | Write,
}
