namespace Mallard.Steering;

/// <summary>Where packets are judged: in an XDP program attached to the interface, or in user space.</summary>
public enum SteeringMode
{
    /// <summary>XDP, native (in the driver) where the driver has it, else generic; user space where XDP cannot be loaded or attached at all.</summary>
    Auto,

    /// <summary>XDP in the driver: fastest; fails where the driver has no XDP.</summary>
    Native,

    /// <summary>XDP in the kernel's generic path (after the driver builds the socket buffer): works on every interface.</summary>
    Generic,

    /// <summary>
    /// No XDP: a packet socket on the interface reads a copy of every frame for the service port
    /// and sends those that name another server to it (the local stack drops its own copy).
    /// For hosts without XDP; it costs a copy and a system call per packet.
    /// </summary>
    UserSpace,
}
