using Mallard.Quic.Connections;
using Mallard.Quic.Tests.TestSupport;

namespace Mallard.Quic.Tests.Connections;

/// <summary>
/// The receiver's flow-control windows grow with the path: a window doubles when the application
/// read half of it within two minimum round trips, so a path whose bandwidth-delay product is
/// larger than the initial window is still filled. (Why the minimum and not the smoothed round
/// trip — a window that grew with the queue the transfer itself built — is measured on loopback
/// in BENCHMARKS.md; in virtual time the receiver never falls behind its socket.)
/// </summary>
public class FlowControlWindowTests
{
    [Fact]
    public void ALongFatPathIsFilled()
    {
        // 40 Mbit/s and a 100 ms round trip: a bandwidth-delay product of 500 KB, as large as the
        // initial stream window, so the window must grow for the link to fill.
        using var network = new VirtualNetwork(21) { Delay = 50_000, BottleneckBytesPerSecond = 5_000_000, BottleneckQueueBytes = 1_000_000 };
        long start = network.Now;
        byte[] response = ConnectionTests.Transfer(network, 8_000_000);
        double seconds = (network.Now - start) / 1e6;

        Assert.Equal(8_000_000, response.Length);
        Assert.True(seconds < 8 / 5.0 / 0.6, $"8 MB took {seconds:0.00} s on a 5 MB/s link"); // 2.4 s with either round trip
    }
}
