namespace Mallard.QuicLb;

/// <summary>Why a destination connection ID cannot be routed by its server ID (draft-21 section 4.1).</summary>
public enum UnroutableReason : byte
{
    /// <summary>The connection ID is routable.</summary>
    None = 0,

    /// <summary>The config rotation bits are 0b111: the server had no configuration (section 3.1).</summary>
    UnroutableConfigId,

    /// <summary>No configuration is loaded for the config rotation bits.</summary>
    UnknownConfigId,

    /// <summary>The connection ID is shorter than its configuration requires (including empty).</summary>
    TooShort,
}
