using System.Runtime.InteropServices;

namespace Mallard.QuicLb;

/// <summary>
/// What a load balancer learns from a destination connection ID: the configuration and server ID
/// it names, or why it names none. A value type, so decoding allocates nothing.
/// </summary>
[StructLayout(LayoutKind.Auto)]
public readonly struct QuicLbDecodeResult
{
    private QuicLbDecodeResult(int configId, ServerId serverId, UnroutableReason reason)
    {
        ConfigId = configId;
        ServerId = serverId;
        Reason = reason;
    }

    /// <summary>Whether a server ID was decoded.</summary>
    public bool IsRoutable => Reason == UnroutableReason.None;

    /// <summary>The config rotation bits of the first octet (0 to 7), or -1 when there was no octet.</summary>
    public int ConfigId { get; }

    /// <summary>The decoded server ID; default when unroutable.</summary>
    public ServerId ServerId { get; }

    /// <summary>Why the connection ID is unroutable, or <see cref="UnroutableReason.None"/>.</summary>
    public UnroutableReason Reason { get; }

    internal static QuicLbDecodeResult Routable(int configId, ServerId serverId) => new(configId, serverId, UnroutableReason.None);

    internal static QuicLbDecodeResult Unroutable(int configId, UnroutableReason reason) => new(configId, default, reason);

    /// <inheritdoc />
    public override string ToString() => IsRoutable ? $"config {ConfigId}, server ID {ServerId}" : $"unroutable ({Reason})";
}
