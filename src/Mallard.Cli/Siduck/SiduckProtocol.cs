namespace Mallard.Cli.Siduck;

/// <summary>
/// SiDUCK (draft-pardue-quic-siduck-00): the client sends "quack" in a DATAGRAM frame, the
/// server answers "quack-ack" in one; any other payload closes the connection with
/// SIDUCK_ONLY_QUACKS_ECHO. The draft names ALPN "siduck-00"; aioquic and quic-go examples use
/// "siduck", so both are offered and accepted.
/// </summary>
internal static class SiduckProtocol
{
    /// <summary>The application error code for a payload that is not the expected one.</summary>
    public const long OnlyQuacksEcho = 0x101;

    public static readonly IReadOnlyList<string> ApplicationProtocols = ["siduck", "siduck-00"];

    public static ReadOnlySpan<byte> Quack => "quack"u8;

    public static ReadOnlySpan<byte> QuackAck => "quack-ack"u8;
}
