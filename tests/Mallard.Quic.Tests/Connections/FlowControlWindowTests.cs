using Mallard.Quic.Connections;
using Mallard.Quic.Tests.TestSupport;
using Mallard.Quic.Transport;

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
    [Theory]
    [InlineData(256 * 1024)]
    [InlineData(128 * 1024)] // the public default
    [InlineData(16 * 1024)] // the smallest allowed
    public void ALongFatPathIsFilled(int initialStreamWindow)
    {
        // 40 Mbit/s and a 100 ms round trip: a bandwidth-delay product of 500 KB, larger than any
        // of these initial windows, so the receiver's windows must grow for the link to fill.
        TransportParameters parameters = new QuicConnectionOptions { InitialStreamReceiveWindow = initialStreamWindow }.TransportParameters();
        ConnectionOptions client = VirtualNetwork.DefaultClientOptions() with { LocalParameters = parameters };
        using var network = new VirtualNetwork(21, client: client) { Delay = 50_000, BottleneckBytesPerSecond = 5_000_000, BottleneckQueueBytes = 1_000_000 };
        long start = network.Now;
        byte[] response = ConnectionTests.Transfer(network, 8_000_000);
        double seconds = (network.Now - start) / 1e6;

        Assert.Equal(8_000_000, response.Length);
        Assert.True(seconds < 8 / 5.0 / 0.6, $"8 MB took {seconds:0.00} s on a 5 MB/s link"); // 2.4 s with either round trip
    }

    [Fact]
    public void TheInitialStreamWindowIsWhatTheTransportParametersAdvertise()
    {
        TransportParameters parameters = new QuicConnectionOptions { InitialStreamReceiveWindow = 300_000 }.TransportParameters();

        Assert.Equal(300_000UL, parameters.InitialMaxStreamDataBidiLocal);
        Assert.Equal(300_000UL, parameters.InitialMaxStreamDataBidiRemote);
        Assert.Equal(300_000UL, parameters.InitialMaxStreamDataUni);
        Assert.Equal(1UL << 20, parameters.InitialMaxData); // at least 1 MiB for the connection
        Assert.Equal(2UL * 4 * 1024 * 1024, new QuicConnectionOptions { InitialStreamReceiveWindow = 4 * 1024 * 1024 }.TransportParameters().InitialMaxData);
    }
}
