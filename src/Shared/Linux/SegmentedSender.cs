using System.Runtime.InteropServices;

namespace Mallard.Linux;

/// <summary>
/// Sends datagrams that share one destination with UDP generic segmentation offload (GSO,
/// UDP_SEGMENT): a run of equal-sized datagrams (the last may be shorter) leaves as one message
/// whose iovecs gather the datagrams where they lie, and the kernel cuts it back into datagrams
/// after routing it once. Each message crosses the send path once instead of once per datagram.
/// When the kernel or the route refuses GSO, the datagrams go one by one and GSO is switched off.
/// </summary>
internal sealed unsafe class SegmentedSender : IDisposable
{
    /// <summary>CMSG_SPACE(sizeof(ushort)) on LP64.</summary>
    private const int ControlSpace = 24;

    /// <summary>A GSO message must fit one IP packet's length field, headers included.</summary>
    private const int MaxMessageLength = 65_000;

    /// <summary>
    /// Only datagrams that fit a 1500-octet IPv6 path unfragmented are segmented: the kernel
    /// refuses GSO (EINVAL) for a segment larger than the route's MTU, and that would switch GSO off.
    /// </summary>
    private const int MaxSegmentSize = 1452;

    private readonly LinuxNative.MMsgHdr* _messages;
    private readonly LinuxNative.IoVec* _vectors;
    private readonly byte* _control;
    private readonly int* _counts;
    private readonly int _capacity;
    private bool _disposed;

    public SegmentedSender(int capacity)
    {
        _capacity = capacity;
        _messages = (LinuxNative.MMsgHdr*)NativeMemory.AllocZeroed((nuint)(capacity * sizeof(LinuxNative.MMsgHdr)));
        _vectors = (LinuxNative.IoVec*)NativeMemory.AllocZeroed((nuint)(capacity * sizeof(LinuxNative.IoVec)));
        _control = (byte*)NativeMemory.AllocZeroed((nuint)(capacity * ControlSpace));
        _counts = (int*)NativeMemory.AllocZeroed((nuint)(capacity * sizeof(int)));
    }

    /// <summary>Whether GSO is still in use (it is switched off after the kernel refused it).</summary>
    public bool Enabled { get; private set; } = true;

    /// <summary>Datagrams that left inside a GSO message of two or more.</summary>
    public long SegmentedDatagrams { get; private set; }

    /// <summary>
    /// Sends <paramref name="datagrams"/>[0..<paramref name="count"/>), each with one iovec and the
    /// same destination (or none, on a connected socket). A datagram the kernel refuses is skipped
    /// and counted in the outcome, and sending goes on after it. Without <paramref name="segment"/>
    /// each datagram is a message of its own, so that each travels, and may be lost, on its own.
    /// </summary>
    public SendOutcome Send(int fd, LinuxNative.MMsgHdr* datagrams, int count, bool segment = true)
    {
        var outcome = default(SendOutcome);
        if (!Enabled || count < 2 || !segment)
        {
            SendEach(fd, datagrams, count, ref outcome);
            return outcome;
        }

        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, _capacity); // Group has room for this many; more would be lost
        int messages = Group(datagrams, count);
        int first = 0;
        for (int m = 0; m < messages;)
        {
            int result = LinuxNative.sendmmsg(fd, &_messages[m], (uint)(messages - m), 0);
            if (result > 0)
            {
                for (int k = 0; k < result; k++)
                {
                    outcome.Sent += _counts[m + k];
                    first += _counts[m + k];
                    SegmentedDatagrams += _counts[m + k] > 1 ? _counts[m + k] : 0;
                }

                m += result;
                continue;
            }

            // Message m failed; its datagrams go one by one. GSO is switched off only when the kernel
            // refused it and then took each datagram: a refusal because one datagram was too large
            // for the route (a path MTU probe) says nothing about GSO.
            int errno = Marshal.GetLastPInvokeError();
            int failedBefore = outcome.Failed;
            SendEach(fd, &datagrams[first], _counts[m], ref outcome);
            if (_counts[m] > 1 && outcome.Failed == failedBefore && errno is LinuxNative.EInval or LinuxNative.EIo or LinuxNative.ENoProtoOpt or LinuxNative.EOpNotSupp)
            {
                Enabled = false;
            }

            first += _counts[m];
            m++;
        }

        return outcome;
    }

    public void Dispose()
    {
        if (!_disposed)
        {
            _disposed = true;
            NativeMemory.Free(_messages);
            NativeMemory.Free(_vectors);
            NativeMemory.Free(_control);
            NativeMemory.Free(_counts);
        }
    }

    /// <summary>sendmmsg of the datagrams as they are, skipping (and counting) one that fails.</summary>
    private static void SendEach(int fd, LinuxNative.MMsgHdr* datagrams, int count, ref SendOutcome outcome)
    {
        int done = 0;
        while (done < count)
        {
            int result = LinuxNative.sendmmsg(fd, &datagrams[done], (uint)(count - done), 0);
            if (result <= 0)
            {
                // The kernel reports an earlier ICMP port unreachable here, or an unreachable destination.
                outcome.Failed++;
                outcome.FailedBytes += (long)datagrams[done].Iov->Length;
                outcome.Refused |= Marshal.GetLastPInvokeError() == LinuxNative.EConnRefused;
                done++;
                continue;
            }

            done += result;
            outcome.Sent += result;
        }
    }

    /// <summary>Builds one message per run of equal-sized datagrams; returns the number of messages.</summary>
    private int Group(LinuxNative.MMsgHdr* datagrams, int count)
    {
        int messages = 0;
        int vector = 0;
        for (int i = 0; i < count;)
        {
            int size = (int)datagrams[i].Iov->Length;
            int limit = size is > 0 and <= MaxSegmentSize ? LinuxNative.MaxSegments : 1;
            int start = vector;
            int total = 0;
            int j = i;
            while (j < count && j - i < limit)
            {
                int length = (int)datagrams[j].Iov->Length;
                if (length > size || total + length > MaxMessageLength || (length == 0 && j > i))
                {
                    break;
                }

                _vectors[vector++] = *datagrams[j].Iov;
                total += length;
                j++;
                if (length < size || size == 0)
                {
                    break; // a shorter datagram can only end a run
                }
            }

            LinuxNative.MMsgHdr* message = &_messages[messages];
            message->Name = datagrams[i].Name;
            message->NameLength = datagrams[i].NameLength;
            message->Iov = &_vectors[start];
            message->IovLength = (nuint)(j - i);
            message->Flags = 0;
            if (j - i > 1)
            {
                byte* control = _control + (messages * ControlSpace);
                var header = (LinuxNative.CMsgHdr*)control;
                header->Length = (nuint)(sizeof(LinuxNative.CMsgHdr) + sizeof(ushort));
                header->Level = LinuxNative.SolUdp;
                header->Type = LinuxNative.UdpSegment;
                *(ushort*)(control + sizeof(LinuxNative.CMsgHdr)) = (ushort)size;
                message->Control = control;
                message->ControlLength = ControlSpace;
            }
            else
            {
                message->Control = null;
                message->ControlLength = 0;
            }

            _counts[messages++] = j - i;
            i = j;
        }

        return messages;
    }

    /// <summary>What one <see cref="Send"/> did: datagrams sent, and those skipped because the kernel refused them.</summary>
    public struct SendOutcome
    {
        public int Sent;
        public int Failed;
        public long FailedBytes;

        /// <summary>At least one failure was ECONNREFUSED (an earlier ICMP port unreachable).</summary>
        public bool Refused;
    }
}
