using System.Runtime.InteropServices;
using Mallard.Steering.Bpf;

namespace Mallard.Steering;

/// <summary>
/// The program attached to one interface as a BPF link. Closing the link detaches the program;
/// the kernel closes it with the process, so a crashed <c>mallard steer</c> leaves nothing behind.
/// </summary>
internal sealed unsafe class XdpLink : IDisposable
{
    private readonly int _fd;

    private XdpLink(int fd, SteeringMode mode)
    {
        _fd = fd;
        Mode = mode;
    }

    /// <summary>The mode the program runs in (never <see cref="SteeringMode.Auto"/>).</summary>
    public SteeringMode Mode { get; }

    /// <summary>Attaches <paramref name="programFd"/> to the interface with index <paramref name="interfaceIndex"/>.</summary>
    /// <exception cref="SteeringException">The kernel refused, in every mode tried.</exception>
    public static XdpLink Attach(int programFd, int interfaceIndex, SteeringMode mode)
    {
        int fd;
        int nativeError = 0;
        if (mode != SteeringMode.Generic && TryAttach(programFd, interfaceIndex, Libbpf.XdpNative, out fd, out nativeError))
        {
            return new XdpLink(fd, SteeringMode.Native);
        }

        if (mode == SteeringMode.Native)
        {
            throw new SteeringException($"native XDP attach failed ({Marshal.GetPInvokeErrorMessage(nativeError)}); the driver may have no XDP: use generic mode");
        }

        if (TryAttach(programFd, interfaceIndex, Libbpf.XdpGeneric, out fd, out int genericError))
        {
            return new XdpLink(fd, SteeringMode.Generic);
        }

        throw new SteeringException($"XDP attach failed ({Marshal.GetPInvokeErrorMessage(genericError)}); another XDP program may be attached to the interface, or this process lacks CAP_NET_ADMIN and CAP_BPF");
    }

    public void Dispose() => Mallard.Linux.LinuxNative.close(_fd);

    private static bool TryAttach(int programFd, int interfaceIndex, uint flags, out int fd, out int error)
    {
        var options = new Libbpf.LinkCreateOptions { Size = (nuint)sizeof(Libbpf.LinkCreateOptions), Flags = flags };
        fd = Libbpf.bpf_link_create(programFd, interfaceIndex, Libbpf.AttachXdp, &options);
        error = fd < 0 ? -fd : 0;
        return fd >= 0;
    }
}
