using Mallard.Quic.Transport;

namespace Mallard.Quic.Connections;

/// <summary>Why a connection ended: the error code of its CONNECTION_CLOSE (or idle timeout, stateless reset), and who closed it.</summary>
/// <param name="Code">The transport error code, or the application's code when <paramref name="IsApplication"/>.</param>
/// <param name="IsApplication">Whether it is an application error (CONNECTION_CLOSE 0x1d).</param>
/// <param name="Reason">The reason phrase.</param>
/// <param name="ByPeer">Whether the peer closed the connection.</param>
/// <param name="FrameType">The frame type that caused a transport error, if any.</param>
/// <param name="Cause">How the connection ended when no CONNECTION_CLOSE carried it (idle timeout, stateless reset, version negotiation).</param>
internal sealed record ConnectionError(ulong Code, bool IsApplication, string Reason, bool ByPeer, ulong FrameType = 0, ConnectionEndCause Cause = ConnectionEndCause.Close)
{
    public static ConnectionError Transport(TransportErrorCode code, string reason, ulong frameType = 0) => new((ulong)code, false, reason, false, frameType);

    public override string ToString() =>
        $"{(ByPeer ? "peer" : "local")} {(IsApplication ? "application error" : TransportErrorName())} 0x{Code:x}: {Reason}";

    private string TransportErrorName() =>
        Code >= 0x100 && Code <= 0x1ff ? $"CRYPTO_ERROR (TLS alert {Code - 0x100})" : Enum.IsDefined((TransportErrorCode)Code) ? ((TransportErrorCode)Code).ToString() : "transport error";
}
