using System.Runtime.InteropServices;

namespace Mallard.Linux;

/// <summary>
/// The few libc calls of the Linux batched data planes: epoll to learn which sockets are readable,
/// recvmmsg and sendmmsg to move many datagrams per system call. Structures follow the LP64 Linux
/// ABI (x86-64 and arm64). One source file compiled into each assembly that needs it (the
/// balancer's forwarding threads, Mallard.Quic's I/O host), so both share one definition.
/// </summary>
internal static unsafe partial class LinuxNative
{
    public const int MsgDontWait = 0x40;
    public const int EpollIn = 0x001;
    public const int EpollCtlAdd = 1;
    public const int EAgain = 11;
    public const int EIntr = 4;
    public const int EConnRefused = 111;
    public const int EIo = 5;
    public const int EInval = 22;
    public const int ENoProtoOpt = 92;
    public const int EOpNotSupp = 95;

    /// <summary>SOL_UDP and UDP_SEGMENT: a cmsg carrying the segment size of a GSO send (Linux 4.18).</summary>
    public const int SolUdp = 17;
    public const int UdpSegment = 103;

    /// <summary>UDP_GRO: receive runs of same-sized datagrams from one source as one message with their size in a cmsg (Linux 5.0).</summary>
    public const int UdpGro = 104;

    /// <summary>The most segments one GSO send may carry (UDP_MAX_SEGMENTS).</summary>
    public const int MaxSegments = 64;

    /// <summary>x86-64 packs epoll_event to 12 octets; other LP64 targets align it to 16.</summary>
    public static readonly int EpollEventSize = RuntimeInformation.ProcessArchitecture == Architecture.X64 ? 12 : 16;

    public static readonly int EpollDataOffset = RuntimeInformation.ProcessArchitecture == Architecture.X64 ? 4 : 8;

    /// <summary>Whether this process runs on the ABI these declarations describe (Linux, x86-64 or arm64).</summary>
    public static bool IsSupported =>
        OperatingSystem.IsLinux() && RuntimeInformation.ProcessArchitecture is Architecture.X64 or Architecture.Arm64;

    [LibraryImport("libc", SetLastError = true)]
    public static partial int epoll_create1(int flags);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int epoll_ctl(int epfd, int op, int fd, byte* @event);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int epoll_wait(int epfd, byte* events, int maxevents, int timeout);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int recvmmsg(int sockfd, MMsgHdr* msgvec, uint vlen, int flags, void* timeout);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int sendmmsg(int sockfd, MMsgHdr* msgvec, uint vlen, int flags);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int close(int fd);

    /// <summary>eventfd flags: non-blocking, closed on exec.</summary>
    public const int EfdNonBlock = 0x800;
    public const int EfdCloExec = 0x80000;

    /// <summary>A counter descriptor that epoll reports readable once written: wakes a thread blocked in epoll_wait.</summary>
    [LibraryImport("libc", SetLastError = true)]
    public static partial int eventfd(uint initval, int flags);

    [LibraryImport("libc", SetLastError = true)]
    public static partial nint read(int fd, void* buffer, nuint count);

    [LibraryImport("libc", SetLastError = true)]
    public static partial nint write(int fd, void* buffer, nuint count);

    /// <summary>
    /// Whether <paramref name="path"/> names something other than a Unix socket (a regular file,
    /// a folder, ...), without following a symbolic link; false when nothing is there. statx(2),
    /// whose structure is the same on every architecture: the file type is in stx_mode at 28.
    /// </summary>
    public static bool IsNonSocket(string path)
    {
        const int AtFdCwd = -100;
        const int AtSymlinkNoFollow = 0x100;
        const uint StatxType = 1;
        byte* buffer = stackalloc byte[256];
        if (statx(AtFdCwd, path, AtSymlinkNoFollow, StatxType, buffer) != 0)
        {
            return false;
        }

        const int TypeMask = 0xF000;
        const int Socket = 0xC000;
        return (*(ushort*)(buffer + 28) & TypeMask) != Socket;
    }

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int statx(int directoryFd, string path, int flags, uint mask, byte* buffer);

    /// <summary>fcntl command: set the descriptor's flags (FD_CLOEXEC is the only one).</summary>
    public const int FSetFd = 2;

    [LibraryImport("libc", SetLastError = true)]
    public static partial int fcntl(int fd, int command, int argument);

    /// <summary>SOL_SOCKET and SCM_RIGHTS: a cmsg carrying file descriptors over a Unix socket.</summary>
    public const int SolSocket = 1;
    public const int ScmRights = 1;

    /// <summary>recvmsg flag: descriptors received are closed on exec; msg_flags bit: control data was cut short.</summary>
    public const int MsgCmsgCloExec = 0x40000000;
    public const int MsgCTrunc = 0x8;
    public const int MsgTrunc = 0x20;

    /// <summary>sendmsg and recvmsg take a struct msghdr: the first 56 octets of <see cref="MMsgHdr"/>.</summary>
    [LibraryImport("libc", SetLastError = true)]
    public static partial nint sendmsg(int sockfd, MMsgHdr* message, int flags);

    [LibraryImport("libc", SetLastError = true)]
    public static partial nint recvmsg(int sockfd, MMsgHdr* message, int flags);

    /// <summary>madvise advice: the pages' contents may be dropped; they read as zeros when touched again.</summary>
    public const int MAdvDontNeed = 4;

    /// <summary>The size of a memory page (4 KiB on the machines Mallard runs on; asked of the kernel through Environment).</summary>
    public static readonly int PageSize = Environment.SystemPageSize;

    [LibraryImport("libc", SetLastError = true)]
    public static partial int madvise(void* address, nuint length, int advice);

    /// <summary>struct cmsghdr on LP64: length, level, type; the data follows at offset 16.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct CMsgHdr
    {
        public nuint Length;
        public int Level;
        public int Type;
    }

    /// <summary>struct iovec.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct IoVec
    {
        public void* Base;
        public nuint Length;
    }

    /// <summary>struct mmsghdr: a struct msghdr (56 octets on LP64) and the length the kernel moved.</summary>
    [StructLayout(LayoutKind.Explicit, Size = 64)]
    public struct MMsgHdr
    {
        [FieldOffset(0)]
        public void* Name;
        [FieldOffset(8)]
        public uint NameLength;
        [FieldOffset(16)]
        public IoVec* Iov;
        [FieldOffset(24)]
        public nuint IovLength;
        [FieldOffset(32)]
        public void* Control;
        [FieldOffset(40)]
        public nuint ControlLength;
        [FieldOffset(48)]
        public int Flags;
        [FieldOffset(56)]
        public uint Length;
    }
}
