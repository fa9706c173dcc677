using System.Net.Sockets;
using System.Runtime.InteropServices;
using Mallard.Linux;

namespace Mallard.Balancer.HandOver;

/// <summary>
/// A connected Unix SOCK_SEQPACKET socket that carries messages with file descriptors attached
/// (SCM_RIGHTS, unix(7)): a descriptor sent is duplicated into the receiving process and refers to
/// the same open socket, with the datagrams already queued on it. Blocking, with the socket's
/// receive timeout.
/// </summary>
internal sealed unsafe class DescriptorChannel : IDisposable
{
    /// <summary>The most descriptors one message carries (the kernel's limit, SCM_MAX_FD, is 253).</summary>
    public const int MaxDescriptors = 64;

    /// <summary>The largest message either side sends.</summary>
    public const int MaxMessageSize = 64 * 1024;

    private const int CMsgHeaderSize = 16;
    private const int ControlSize = CMsgHeaderSize + (MaxDescriptors * sizeof(int));

    private readonly Socket _socket;

    public DescriptorChannel(Socket socket, TimeSpan timeout)
    {
        _socket = socket;
        _socket.ReceiveTimeout = (int)timeout.TotalMilliseconds;
        _socket.SendTimeout = (int)timeout.TotalMilliseconds;
    }

    /// <summary>How long a receive waits from now on.</summary>
    public TimeSpan Timeout
    {
        set => _socket.ReceiveTimeout = (int)value.TotalMilliseconds;
    }

    /// <summary>Opens a Unix SOCK_SEQPACKET socket (the kind both ends of a hand-over use).</summary>
    public static Socket OpenSocket() => new(AddressFamily.Unix, SocketType.Seqpacket, ProtocolType.Unspecified);

    /// <summary>Sends one message with <paramref name="descriptors"/> attached (at most <see cref="MaxDescriptors"/>).</summary>
    /// <exception cref="IOException">The peer is gone or the send failed.</exception>
    public void Send(ReadOnlySpan<byte> payload, ReadOnlySpan<int> descriptors)
    {
        if (descriptors.Length > MaxDescriptors || payload.Length > MaxMessageSize)
        {
            throw new ArgumentException("message too large for one hand-over message");
        }

        byte* control = stackalloc byte[ControlSize];
        fixed (byte* data = payload)
        {
            var vector = new LinuxNative.IoVec { Base = data, Length = (nuint)payload.Length };
            LinuxNative.MMsgHdr header = default;
            header.Iov = &vector;
            header.IovLength = 1;
            if (descriptors.Length > 0)
            {
                var cmsg = (LinuxNative.CMsgHdr*)control;
                cmsg->Length = (nuint)(CMsgHeaderSize + (descriptors.Length * sizeof(int)));
                cmsg->Level = LinuxNative.SolSocket;
                cmsg->Type = LinuxNative.ScmRights;
                descriptors.CopyTo(new Span<int>(control + CMsgHeaderSize, descriptors.Length));
                header.Control = control;
                header.ControlLength = (nuint)((CMsgHeaderSize + (descriptors.Length * sizeof(int)) + 7) & ~7);
            }

            nint sent;
            do
            {
                sent = LinuxNative.sendmsg(Fd, &header, 0);
            }
            while (sent < 0 && Interrupted());

            if (sent != payload.Length)
            {
                throw new IOException("the hand-over message was cut short");
            }
        }
    }

    /// <summary>
    /// Receives one message into <paramref name="buffer"/> and the descriptors attached to it into
    /// <paramref name="descriptors"/> (the caller owns them). Returns the message's length; 0 when
    /// the peer closed the connection.
    /// </summary>
    /// <exception cref="IOException">The receive timed out or failed, or the message was cut short.</exception>
    public int Receive(Span<byte> buffer, List<int> descriptors)
    {
        byte* control = stackalloc byte[ControlSize];
        fixed (byte* data = buffer)
        {
            var vector = new LinuxNative.IoVec { Base = data, Length = (nuint)buffer.Length };
            LinuxNative.MMsgHdr header = default;
            header.Iov = &vector;
            header.IovLength = 1;
            header.Control = control;
            header.ControlLength = ControlSize;
            nint length;
            do
            {
                length = LinuxNative.recvmsg(Fd, &header, LinuxNative.MsgCmsgCloExec);
            }
            while (length < 0 && Interrupted());

            TakeDescriptors(&header, descriptors);
            if ((header.Flags & LinuxNative.MsgCTrunc) != 0)
            {
                throw new IOException("the hand-over message carried more descriptors than allowed");
            }

            if (length > 0 && (header.Flags & LinuxNative.MsgTrunc) != 0)
            {
                throw new IOException("the hand-over message was larger than allowed");
            }

            return (int)length;
        }
    }

    public void Dispose() => _socket.Dispose();

    private int Fd => (int)_socket.SafeHandle.DangerousGetHandle();

    private static void TakeDescriptors(LinuxNative.MMsgHdr* header, List<int> descriptors)
    {
        byte* control = (byte*)header->Control;
        nuint offset = 0;
        while (offset + CMsgHeaderSize <= header->ControlLength)
        {
            var cmsg = (LinuxNative.CMsgHdr*)(control + offset);
            if (cmsg->Length < CMsgHeaderSize)
            {
                break;
            }

            if (cmsg->Level == LinuxNative.SolSocket && cmsg->Type == LinuxNative.ScmRights)
            {
                int count = (int)(cmsg->Length - CMsgHeaderSize) / sizeof(int);
                descriptors.AddRange(new ReadOnlySpan<int>(control + offset + CMsgHeaderSize, count));
            }

            offset += (cmsg->Length + 7) & ~(nuint)7;
        }
    }

    // After a failed call: true to retry (interrupted by a signal), otherwise throws.
    private static bool Interrupted()
    {
        int error = Marshal.GetLastPInvokeError();
        if (error == LinuxNative.EIntr)
        {
            return true;
        }

        throw new IOException(error == LinuxNative.EAgain ? "the hand-over peer did not answer in time" : $"hand-over socket error {error}", new SocketException(error));
    }
}
