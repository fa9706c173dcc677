using System.Net;
using System.Net.Sockets;
using Mallard.Quic.Connections;
using Mallard.QuicLb;
using Mallard.TestSupport;

namespace Mallard.Quic.AspNetCore.Tests;

/// <summary>
/// The deployment Mallard is for: ASP.NET Core apps on Mallard.Quic issuing QUIC-LB connection
/// IDs (<see cref="MallardQuicTransportOptions.ConnectionIdGenerator"/>) behind <c>mallard lb</c>,
/// and a client whose NAT rebinds mid-transfer.
/// </summary>
public class BehindBalancerTests
{
    [Fact]
    public async Task AnUploadThroughTheBalancerSurvivesANatRebinding()
    {
        var config = new QuicLbConfig(0, 4, 8);
        await using Http3TestApp a = await Http3TestApp.StartAsync(o => o.ConnectionIdGenerator = new QuicLbConnectionIdGenerator(config, [0x41, 0x41, 0x41, 0x41]));
        await using Http3TestApp b = await Http3TestApp.StartAsync(o => o.ConnectionIdGenerator = new QuicLbConnectionIdGenerator(config, [0x42, 0x42, 0x42, 0x42]));
        int port = FreeUdpPort();
        string lbConfig = ScratchFolder.NewFile("h3-lb");
        File.WriteAllText(lbConfig, $$"""
            { "Mallard": { "Balancer": {
              "Listen": [ "127.0.0.1:{{port}}" ], "Admin": "off", "Workers": 1,
              "Configs": [ { "Id": 0, "ServerIdLength": 4, "NonceLength": 8 } ],
              "Backends": [ { "Address": "127.0.0.1:{{a.Endpoint.Port}}", "ServerIds": { "0": "41414141" } },
                            { "Address": "127.0.0.1:{{b.Endpoint.Port}}", "ServerIds": { "0": "42424242" } } ],
              "Health": { "Enabled": false } } } }
            """);
        using RunningProcess lb = RunningProcess.Start("dotnet", [MallardProcess.Dll, "lb", "--config", lbConfig]);
        Assert.True(await lb.WaitForOutputAsync("Running:", TimeSpan.FromSeconds(20)), lb.Output);

        string upload = ScratchFolder.NewFile("lb-upload", ".bin");
        byte[] body = Http3TestApp.Pattern(30_000_000);
        await File.WriteAllBytesAsync(upload, body);
        string downloads = Path.Combine(Path.GetDirectoryName(upload)!, $"lb-{Guid.NewGuid():N}");
        Directory.CreateDirectory(downloads);
        using RunningProcess client = RunningProcess.Start("/usr/bin/gtlsclient",
            ["--no-quic-dump", "--no-http-dump", "--exit-on-all-streams-close", "--timeout=10s", $"--download={downloads}",
             "-m", "POST", "-d", upload, "--change-local-addr=50ms", "--nat-rebinding", "127.0.0.1", $"{port}", $"https://127.0.0.1:{port}/echo"]);
        int exit = await client.WaitForExitAsync(TimeSpan.FromSeconds(60));

        Assert.True(exit == 0, client.Output[^Math.Min(4000, client.Output.Length)..] + lb.Output);
        Assert.Contains("Local address is now", client.Output, StringComparison.Ordinal);
        Assert.Equal(body, await File.ReadAllBytesAsync(Path.Combine(downloads, "echo")));
        Assert.Equal(1, a.Requests + b.Requests); // one request, answered by the server that took the connection
    }

    private static int FreeUdpPort()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }
}
