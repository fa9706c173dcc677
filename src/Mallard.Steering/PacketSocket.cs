using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Mallard.Linux;

namespace Mallard.Steering;

/// <summary>
/// A Linux packet socket (AF_PACKET, SOCK_RAW) on one interface: sends whole Ethernet frames, and
/// (opened with a service port) receives a copy of every incoming frame that carries UDP to that
/// port — a classic BPF filter in the kernel drops everything else before it is copied, and the
/// frames this host sends are not read back. Received frames come with the kernel's segmentation
/// offload size (PACKET_VNET_HDR): on virtual interfaces a sender's UDP GSO batch arrives as one
/// frame holding several QUIC packets, and with UDP GRO the receiving side joins them the same
/// way, so one frame may be several datagrams. Needs CAP_NET_RAW. One reader thread; sends may
/// come from any thread.
/// </summary>
internal sealed unsafe partial class PacketSocket : IDisposable
{
    private const int AddressFamilyPacket = 17;
    private const int SocketRaw = 3;
    private const ushort EthernetAll = 0x0003;
    private const int SolSocket = 1;
    private const int SoReceiveTimeout = 20;
    private const int SoAttachFilter = 26;
    private const int SolPacket = 263;
    private const int PacketIgnoreOutgoing = 23;
    private const int PacketVnetHeader = 15;
    private const int VnetHeaderLength = 10;
    private const int SoReceiveBuffer = 8;
    private const int SoReceiveBufferForce = 33;
    private const int PacketStatistics = 6;
    private const int ReceiveBufferOctets = 8 << 20;
    private const byte GsoUdpL4 = 5;
    private const int MessageTruncate = 0x20;

    private readonly int _fd;
    private readonly int _interfaceIndex;
    private bool _receivesVnetHeader;
    private int _disposed;

    private PacketSocket(int fd, int interfaceIndex)
    {
        _fd = fd;
        _interfaceIndex = interfaceIndex;
    }

    /// <summary>A socket that only sends (bound to no protocol, it receives nothing).</summary>
    /// <exception cref="SteeringException">The kernel refused (no CAP_NET_RAW).</exception>
    public static PacketSocket ForSending(int interfaceIndex)
    {
        int fd = socket(AddressFamilyPacket, SocketRaw, 0);
        if (fd < 0)
        {
            throw Failure("a packet socket");
        }

        return new PacketSocket(fd, interfaceIndex);
    }

    /// <summary>
    /// A socket that also receives every incoming frame with UDP to <paramref name="servicePort"/>
    /// on the interface. It waits at most <paramref name="receiveTimeout"/> in <see cref="Receive"/>.
    /// </summary>
    /// <exception cref="SteeringException">The kernel refused (no CAP_NET_RAW).</exception>
    public static PacketSocket ForService(int interfaceIndex, ushort servicePort, TimeSpan receiveTimeout)
    {
        // Protocol 0 until the filter is in place: bound to every protocol first, the socket
        // would queue frames the filter was meant to keep out.
        PacketSocket socket = ForSending(interfaceIndex);
        try
        {
            socket.AttachServiceFilter(servicePort);
            int one = 1;
            socket.SetOption(SolPacket, PacketIgnoreOutgoing, &one, sizeof(int), "PACKET_IGNORE_OUTGOING");
            socket.SetOption(SolPacket, PacketVnetHeader, &one, sizeof(int), "PACKET_VNET_HDR");
            // Room for bursts while the thread is descheduled: the default (about 200 KB) holds
            // some 100 frames, which a 1 ms pause at 100,000 packets/s overruns. Forced past
            // net.core.rmem_max where the process may (CAP_NET_ADMIN), else as large as allowed.
            int octets = ReceiveBufferOctets;
            if (setsockopt(socket._fd, SolSocket, SoReceiveBufferForce, &octets, sizeof(int)) != 0)
            {
                socket.SetOption(SolSocket, SoReceiveBuffer, &octets, sizeof(int), "SO_RCVBUF");
            }

            socket._receivesVnetHeader = true;
            long* timeout = stackalloc long[2];
            timeout[0] = (long)receiveTimeout.TotalSeconds;
            timeout[1] = receiveTimeout.Microseconds + (receiveTimeout.Milliseconds * 1000L);
            socket.SetOption(SolSocket, SoReceiveTimeout, timeout, 16, "SO_RCVTIMEO");
            LinkAddress address = LinkAddress.For(interfaceIndex, EthernetAll);
            if (bind(socket._fd, &address, sizeof(LinkAddress)) != 0)
            {
                throw Failure("binding the packet socket to the interface");
            }

            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Waits for one frame and copies as much of it as fits into <paramref name="buffer"/>; its
    /// whole length, or -1 when the wait timed out or was interrupted. <paramref name="segmentSize"/>
    /// is the UDP payload size of each datagram when the frame holds a segmentation offload batch,
    /// else 0.
    /// </summary>
    public int Receive(Span<byte> buffer, out int segmentSize)
    {
        segmentSize = 0;
        if (!_receivesVnetHeader)
        {
            throw new InvalidOperationException("this packet socket only sends");
        }

        // struct virtio_net_hdr, then the frame: scattered straight into place with readv.
        VnetHeader header;
        fixed (byte* into = buffer)
        {
            LinuxNative.IoVec* vectors = stackalloc LinuxNative.IoVec[2];
            vectors[0] = new LinuxNative.IoVec { Base = &header, Length = VnetHeaderLength };
            vectors[1] = new LinuxNative.IoVec { Base = into, Length = (nuint)buffer.Length };
            var message = new LinuxNative.MMsgHdr { Iov = vectors, IovLength = 2 };
            nint received = LinuxNative.recvmsg(_fd, &message, MessageTruncate);
            if (received < VnetHeaderLength)
            {
                return -1;
            }

            if ((header.GsoType & 0x7f) == GsoUdpL4)
            {
                segmentSize = header.GsoSize;
            }

            return (int)received - VnetHeaderLength;
        }
    }

    /// <summary>Frames the kernel dropped because this socket's buffer was full, since the last call (PACKET_STATISTICS).</summary>
    public long TakeDropped()
    {
        uint* statistics = stackalloc uint[2]; // struct tpacket_stats: packets, drops
        uint length = 8;
        return getsockopt(_fd, SolPacket, PacketStatistics, statistics, &length) == 0 ? statistics[1] : 0;
    }

    /// <summary>Sends <paramref name="frame"/> (its Ethernet header names the destination) out of the interface.</summary>
    public bool Send(ReadOnlySpan<byte> frame)
    {
        LinkAddress address = LinkAddress.For(_interfaceIndex, BinaryPrimitives.ReadUInt16BigEndian(frame[12..]));
        frame[..6].CopyTo(new Span<byte>(address.Address, 8));
        address.AddressLength = 6;
        fixed (byte* data = frame)
        {
            return sendto(_fd, data, (nuint)frame.Length, 0, &address, sizeof(LinkAddress)) == frame.Length;
        }
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            LinuxNative.close(_fd);
        }
    }

    private static SteeringException Failure(string what)
    {
        int errno = Marshal.GetLastPInvokeError();
        string hint = errno is 1 or 13 ? " (packet sockets need root or CAP_NET_RAW)" : string.Empty;
        return new SteeringException($"{what} failed: {Marshal.GetPInvokeErrorMessage(errno)}{hint}");
    }

    // "udp dst port N" for IPv4 (no fragments, any header length) and IPv6 (UDP next), as
    // tcpdump -dd compiles it: accept the whole frame, or nothing.
    private void AttachServiceFilter(ushort port)
    {
        SocketFilter* code = stackalloc SocketFilter[]
        {
            new(0x28, 0, 0, 12),          // 0: ldh [12]            ethertype
            new(0x15, 0, 4, 0x86dd),      // 1: jeq IPv6 ? 2 : 6
            new(0x30, 0, 0, 20),          // 2: ldb [20]            next header
            new(0x15, 0, 11, 17),         // 3: jeq UDP ? 4 : 15
            new(0x28, 0, 0, 56),          // 4: ldh [56]            destination port
            new(0x15, 8, 9, port),        // 5: jeq port ? 14 : 15
            new(0x15, 0, 8, 0x0800),      // 6: jeq IPv4 ? 7 : 15
            new(0x30, 0, 0, 23),          // 7: ldb [23]            protocol
            new(0x15, 0, 6, 17),          // 8: jeq UDP ? 9 : 15
            new(0x28, 0, 0, 20),          // 9: ldh [20]            flags and fragment offset
            new(0x45, 4, 0, 0x1fff),      // 10: jset offset ? 15 : 11
            new(0xb1, 0, 0, 14),          // 11: ldxb 4*([14]&0xf)  IPv4 header length
            new(0x48, 0, 0, 16),          // 12: ldh [x + 16]       destination port
            new(0x15, 0, 1, port),        // 13: jeq port ? 14 : 15
            new(0x06, 0, 0, 0x40000),     // 14: ret whole frame
            new(0x06, 0, 0, 0),           // 15: ret nothing
        };
        var program = new SocketFilterProgram { Length = 16, Filter = code };
        SetOption(SolSocket, SoAttachFilter, &program, sizeof(SocketFilterProgram), "SO_ATTACH_FILTER");
    }

    private void SetOption(int level, int name, void* value, int length, string what)
    {
        if (setsockopt(_fd, level, name, value, (uint)length) != 0)
        {
            throw Failure(what);
        }
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int socket(int domain, int type, int protocol);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int bind(int fd, LinkAddress* address, int length);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int setsockopt(int fd, int level, int name, void* value, uint length);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int getsockopt(int fd, int level, int name, void* value, uint* length);

    [LibraryImport("libc", SetLastError = true)]
    private static partial nint sendto(int fd, byte* buffer, nuint length, int flags, LinkAddress* address, int addressLength);

    /// <summary>struct sockaddr_ll.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct LinkAddress
    {
        public ushort Family;
        public ushort Protocol;
        public int InterfaceIndex;
        public ushort HardwareType;
        public byte PacketType;
        public byte AddressLength;
        public fixed byte Address[8];

        public static LinkAddress For(int interfaceIndex, ushort protocol) => new()
        {
            Family = AddressFamilyPacket,
            Protocol = (ushort)System.Net.IPAddress.HostToNetworkOrder((short)protocol),
            InterfaceIndex = interfaceIndex,
        };
    }

    /// <summary>struct virtio_net_hdr (legacy: host byte order).</summary>
    [StructLayout(LayoutKind.Sequential, Size = VnetHeaderLength)]
    private struct VnetHeader
    {
        public byte Flags;
        public byte GsoType;
        public ushort HeaderLength;
        public ushort GsoSize;
        public ushort ChecksumStart;
        public ushort ChecksumOffset;
    }

    /// <summary>struct sock_filter: one classic BPF instruction.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private readonly struct SocketFilter(ushort code, byte jumpTrue, byte jumpFalse, uint k)
    {
        public readonly ushort Code = code;
        public readonly byte JumpTrue = jumpTrue;
        public readonly byte JumpFalse = jumpFalse;
        public readonly uint K = k;
    }

    /// <summary>struct sock_fprog.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct SocketFilterProgram
    {
        public ushort Length;
        public SocketFilter* Filter;
    }
}
