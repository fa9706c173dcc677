namespace Mallard.Steering;

/// <summary>How the XDP program is attached to the interface.</summary>
public enum XdpMode
{
    /// <summary>Native (in the driver) where the driver has it, generic otherwise.</summary>
    Auto,

    /// <summary>In the driver: fastest; fails where the driver has no XDP.</summary>
    Native,

    /// <summary>In the kernel's generic path (after the driver builds the socket buffer): works on every interface.</summary>
    Generic,
}
