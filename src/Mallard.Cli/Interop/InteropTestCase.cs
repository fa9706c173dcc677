namespace Mallard.Cli.Interop;

/// <summary>
/// The quic-interop-runner test cases Mallard's interop endpoint supports, read from the
/// TESTCASE environment variable. Anything else is answered with exit code 127, as the runner expects.
/// </summary>
internal enum InteropTestCase
{
    Handshake,
    Transfer,
    Multiplexing,
    Retry,
    ChaCha20,
    KeyUpdate,
    HandshakeLoss,
    TransferLoss,

    /// <summary>Two connections: the second resumes the first's session with its ticket (RFC 8446 section 2.2).</summary>
    Resumption,

    /// <summary>Like resumption, but the second connection sends its requests as 0-RTT early data (RFC 9001 section 4.6).</summary>
    ZeroRtt,

    /// <summary>HTTP/3 (ALPN h3) instead of hq-interop: Mallard.Http3's client, Kestrel on Mallard.Quic as the server.</summary>
    Http3,
}

/// <summary>Parses TESTCASE values.</summary>
internal static class InteropTestCases
{
    /// <summary>The exit code for a test case this endpoint does not implement.</summary>
    public const int UnsupportedExitCode = 127;

    public static InteropTestCase? Parse(string? name) => name switch
    {
        "handshake" => InteropTestCase.Handshake,
        "transfer" => InteropTestCase.Transfer,
        "multiplexing" => InteropTestCase.Multiplexing,
        "retry" => InteropTestCase.Retry,
        "chacha20" => InteropTestCase.ChaCha20,
        "keyupdate" => InteropTestCase.KeyUpdate,
        "handshakeloss" => InteropTestCase.HandshakeLoss,
        "transferloss" => InteropTestCase.TransferLoss,
        "http3" => InteropTestCase.Http3,
        "resumption" => InteropTestCase.Resumption,
        "zerortt" => InteropTestCase.ZeroRtt,
        _ => null,
    };
}
