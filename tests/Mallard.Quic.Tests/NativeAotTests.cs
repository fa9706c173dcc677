using System.Net;
using System.Net.Sockets;
using Mallard.TestSupport;

namespace Mallard.Quic.Tests;

/// <summary>
/// Mallard.Quic is marked <c>IsAotCompatible</c>, so the trim and AOT analyzers check it on every
/// build; this proves the claim end to end. A program on the public API (the benchmark's echo
/// client and server) is published with Native AOT, and its client and server, both compiled
/// ahead of time, make handshakes, echo datagrams and download a stream.
/// </summary>
public class NativeAotTests
{
    [Fact]
    public async Task AProgramPublishedWithNativeAotConnectsEchoesAndDownloads()
    {
        string work = Directory.CreateTempSubdirectory("mallard-aot-").FullName;
        try
        {
            string output = Path.Combine(work, "out");
            // Its own artifacts folder: nothing shared with the build of the other test projects.
            using (RunningProcess publish = RunningProcess.Start("dotnet", ["publish", Path.Combine(Repository.Root, "bench", "Mallard.DatagramBench"),
                "-c", "Release", "-r", "linux-x64", "-p:PublishAot=true", "--artifacts-path", Path.Combine(work, "artifacts"), "-o", output]))
            {
                Assert.True(await publish.WaitForExitAsync(TimeSpan.FromMinutes(5)) == 0, publish.Output);
                Assert.DoesNotContain("warning IL", publish.Output, StringComparison.Ordinal);
            }

            string program = Path.Combine(output, "Mallard.DatagramBench");
            Assert.False(File.Exists(Path.Combine(output, "Mallard.Quic.dll")), "a Native AOT program carries no managed assemblies");

            int port = FreeUdpPort();
            using RunningProcess server = RunningProcess.Start(program, ["server", $"127.0.0.1:{port}"]);
            Assert.True(await server.WaitForOutputAsync("listening", TimeSpan.FromSeconds(10)), server.Output);

            // 50 datagram round trips, 1 s of echoes, then a 5 MB download with datagrams beside it.
            using (RunningProcess client = RunningProcess.Start(program, ["client", $"127.0.0.1:{port}", "50", "1", "16", "5"]))
            {
                Assert.True(await client.WaitForExitAsync(TimeSpan.FromSeconds(60)) == 0, client.Output + server.Output);
                Assert.Contains("pings_answered=50 ", client.Output, StringComparison.Ordinal);
                Assert.Matches(@"mixed_stream_mbps=[0-9.]+ ", client.Output);
            }

            using RunningProcess handshakes = RunningProcess.Start(program, ["handshakes", $"127.0.0.1:{port}", "20", "4"]);
            Assert.True(await handshakes.WaitForExitAsync(TimeSpan.FromSeconds(60)) == 0, handshakes.Output + server.Output);
            Assert.Matches(@"hs_seq_per_s=[0-9.]+ hs_par_per_s=[0-9.]+", handshakes.Output);
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    private static int FreeUdpPort()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }
}
