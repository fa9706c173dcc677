using Mallard.Quic.Connections;
using Mallard.QuicLb;
using Mallard.TestSupport;

namespace Mallard.Quic.AspNetCore.Tests;

/// <summary>
/// Two test apps (server IDs 41414141 and 42424242, QUIC-LB config 0, plaintext) behind a real
/// <c>mallard lb</c> process on a free loopback port: the deployment the transport is for.
/// </summary>
internal sealed class BalancedApps : IAsyncDisposable
{
    private readonly RunningProcess _balancer;

    private BalancedApps(Http3TestApp a, Http3TestApp b, RunningProcess balancer, int port)
    {
        A = a;
        B = b;
        _balancer = balancer;
        Port = port;
    }

    public Http3TestApp A { get; }

    public Http3TestApp B { get; }

    /// <summary>The balancer's UDP port, where clients connect.</summary>
    public int Port { get; }

    public string BalancerOutput => _balancer.Output;

    /// <param name="configure">Transport options both apps share, besides their connection ID generators.</param>
    public static async Task<BalancedApps> StartAsync(Action<MallardQuicTransportOptions>? configure = null)
    {
        var config = new QuicLbConfig(0, 4, 8);
        Http3TestApp a = await Http3TestApp.StartAsync(o => Configure(o, [0x41, 0x41, 0x41, 0x41]));
        Http3TestApp b = await Http3TestApp.StartAsync(o => Configure(o, [0x42, 0x42, 0x42, 0x42]));
        int port = FreePorts.Udp();
        string lbConfig = ScratchFolder.NewFile("h3-lb");
        File.WriteAllText(lbConfig, $$"""
            { "Mallard": { "Balancer": {
              "Listen": [ "127.0.0.1:{{port}}" ], "Admin": "off", "Workers": 1,
              "Configs": [ { "Id": 0, "ServerIdLength": 4, "NonceLength": 8 } ],
              "Backends": [ { "Address": "127.0.0.1:{{a.Endpoint.Port}}", "ServerIds": { "0": "41414141" } },
                            { "Address": "127.0.0.1:{{b.Endpoint.Port}}", "ServerIds": { "0": "42424242" } } ],
              "Health": { "Enabled": false } } } }
            """);
        RunningProcess balancer = RunningProcess.Start("dotnet", [MallardProcess.Dll, "lb", "--config", lbConfig]);
        if (!await balancer.WaitForOutputAsync("Running:", TimeSpan.FromSeconds(20)))
        {
            string output = balancer.Output;
            balancer.Dispose();
            await a.DisposeAsync();
            await b.DisposeAsync();
            throw new InvalidOperationException($"mallard lb did not start:\n{output}");
        }

        return new BalancedApps(a, b, balancer, port);

        void Configure(MallardQuicTransportOptions options, byte[] serverId)
        {
            options.ConnectionIdGenerator = new QuicLbConnectionIdGenerator(config, serverId);
            configure?.Invoke(options);
        }
    }


    public async ValueTask DisposeAsync()
    {
        _balancer.Dispose();
        await A.DisposeAsync();
        await B.DisposeAsync();
    }
}
