using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Mallard.Balancer.Forwarding.Linux;
using Mallard.Linux;

namespace Mallard.Balancer.Tests.Forwarding.Linux;

/// <summary>GSO sends arrive as the datagrams they were made of: same sizes, contents and order.</summary>
public unsafe class SegmentedSenderTests
{
    [Theory]
    [InlineData(new[] { 1200, 1200, 1200, 1200 })]                       // one GSO message
    [InlineData(new[] { 1200, 1200, 700, 1200, 1200 })]                  // a shorter one ends a run
    [InlineData(new[] { 100, 0, 100, 100 })]                             // an empty datagram stays one
    [InlineData(new[] { 3000, 3000, 1200, 1200, 1 })]                    // too large to segment, then a run
    [InlineData(new[] { 1452, 1452, 1452, 1452, 1452, 1452, 1452, 1452, 1452, 1452, 1452, 1452, 1452, 1452, 1452, 1452, 1452, 1452, 1452, 1452, 1452, 1452, 1452, 1452, 1452, 1452, 1452, 1452, 1452, 1452, 1452, 1452 })]
    public void EveryDatagramArrivesWholeAndInOrder(int[] sizes)
    {
        Assert.True(LinuxNative.IsSupported, "the batched data plane needs Linux on x86-64 or arm64");
        using var receiver = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        receiver.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        receiver.ReceiveTimeout = 2000;
        using var sender = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        sender.Connect(receiver.LocalEndPoint!);
        using var segmented = new SegmentedSender(LinuxBatchIo.BatchSize);

        byte[][] payloads = [.. sizes.Select((size, i) => Enumerable.Range(0, size).Select(b => (byte)(b * 7 + i)).ToArray())];
        var handles = payloads.Select(p => GCHandle.Alloc(p, GCHandleType.Pinned)).ToList();
        var headers = (LinuxNative.MMsgHdr*)NativeMemory.AllocZeroed((nuint)(sizes.Length * sizeof(LinuxNative.MMsgHdr)));
        var vectors = (LinuxNative.IoVec*)NativeMemory.AllocZeroed((nuint)(sizes.Length * sizeof(LinuxNative.IoVec)));
        try
        {
            for (int i = 0; i < sizes.Length; i++)
            {
                vectors[i].Base = (void*)handles[i].AddrOfPinnedObject();
                vectors[i].Length = (nuint)sizes[i];
                headers[i].Iov = &vectors[i];
                headers[i].IovLength = 1;
            }

            SegmentedSender.SendOutcome outcome = segmented.Send((int)sender.SafeHandle.DangerousGetHandle(), headers, sizes.Length);
            Assert.Equal(sizes.Length, outcome.Sent);
            Assert.Equal(0, outcome.Failed);
            Assert.True(segmented.Enabled);
            int runs = sizes.Zip(sizes.Skip(1)).Count(pair => pair.First == pair.Second && pair.First is > 0 and <= 1452);
            Assert.Equal(runs > 0, segmented.SegmentedDatagrams > 0);

            byte[] buffer = new byte[65_536];
            foreach (byte[] expected in payloads)
            {
                int length = receiver.Receive(buffer);
                Assert.Equal(expected, buffer[..length]);
            }
        }
        finally
        {
            handles.ForEach(h => h.Free());
            NativeMemory.Free(headers);
            NativeMemory.Free(vectors);
        }
    }
}
