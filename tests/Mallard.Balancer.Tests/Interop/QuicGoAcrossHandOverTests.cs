using System.Text.RegularExpressions;
using Mallard.Balancer.Tests.TestSupport;
using Mallard.TestSupport;

namespace Mallard.Balancer.Tests.Interop;

/// <summary>
/// Zero-loss restarts of the real <c>mallard lb</c> process under a quic-go 0.29 download: one
/// hand-over by command (a second <c>mallard lb</c> started with the same configuration) and one
/// by signal (SIGUSR2 starts the successor) while the configuration file changes and SIGHUP asks
/// for a reload, while a client downloads 60 MB at 10 MB/s (so that both hand-overs fall in the
/// middle), every octet checked.
/// </summary>
public sealed partial class QuicGoAcrossHandOverTests
{
    private const string ServerId = "41414141";

    [Fact]
    public async Task ADownloadRunsUnbrokenThroughAHandOverByCommandAndOneBySignal()
    {
        int[] ports = FreePorts.Udp(2);
        int admin = FreePorts.Tcp();
        int spare = FreePorts.Udp(1)[0]; // a second backend the configuration gains during a hand-over
        using RunningProcess server = await QuicGoLb.StartServerAsync("A", ServerId, ports[0]);
        string folder = Directory.CreateTempSubdirectory("mallard-handover-").FullName;
        RunningProcess? first = null;
        RunningProcess? second = null;
        int third = 0;
        try
        {
            string config = Path.Combine(folder, "lb.json");
            await File.WriteAllTextAsync(config, $$"""
                { "Mallard": { "Balancer": {
                  "Listen": [ "127.0.0.1:{{ports[1]}}" ], "Admin": "127.0.0.1:{{admin}}",
                  "Configs": [ { "Id": 0, "ServerIdLength": 4, "NonceLength": 8 } ],
                  "Backends": [ { "Address": "127.0.0.1:{{ports[0]}}", "ServerIds": { "0": "{{ServerId}}" } } ],
                  "Health": { "Enabled": false },
                  "Proxy": { "FlowJournal": "{{Path.Combine(folder, "flows")}}", "HandOverSocket": "{{Path.Combine(folder, "handover")}}" }
                } } }
                """);
            string[] balancer = [MallardProcess.Dll, "lb", "--config", config];
            first = RunningProcess.Start("dotnet", balancer);
            Assert.True(await first.WaitForOutputAsync("Running:", TimeSpan.FromSeconds(30)), first.Output);
            using RunningProcess client = RunningProcess.Start(await QuicGoLb.PathAsync(),
                ["-mode", "client", "-connect", $"127.0.0.1:{ports[1]}", "-download", "60000000", "-report-at", "3000000", "-read-rate", "10000000", "-idle", "10s"]);
            Assert.True(await client.WaitForOutputAsync("received", TimeSpan.FromSeconds(30)), client.Output);

            // By command: a second balancer with the same configuration takes over; the first exits.
            second = RunningProcess.Start("dotnet", balancer);
            Assert.True(await second.WaitForOutputAsync($"Took over from process {first.Id}: 2 listening sockets and 1 flows (0 dropped)", TimeSpan.FromSeconds(30)), second.Output);
            Assert.True(await first.WaitForProcessExitAsync(TimeSpan.FromSeconds(10)), first.Output);
            Assert.Equal(0, first.ExitCode);

            // By signal, with a configuration change and a reload racing it: SIGUSR2 makes the second
            // start its own successor (whose output goes where the second's goes), SIGHUP right after.
            Assert.True(await second.WaitForOutputAsync("Running:", TimeSpan.FromSeconds(10)), second.Output);
            await File.WriteAllTextAsync(config, (await File.ReadAllTextAsync(config)).Replace(
                "\"Backends\": [ ", $"\"Backends\": [ {{ \"Address\": \"127.0.0.1:{spare}\", \"ServerIds\": {{ \"0\": \"42424242\" }} }}, ", StringComparison.Ordinal));
            second.Signal(12);
            second.Signal(1);
            Assert.True(await second.WaitForOutputAsync("SIGUSR2: started process", TimeSpan.FromSeconds(10)), second.Output);
            third = int.Parse(StartedProcess().Match(second.Output).Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
            Assert.True(await second.WaitForOutputAsync($"Took over from process {second.Id}", TimeSpan.FromSeconds(30), afterExit: true), second.Output);
            Assert.True(await second.WaitForProcessExitAsync(TimeSpan.FromSeconds(10)), second.Output);

            Assert.False(client.HasExited, "the download must outlast both hand-overs: " + client.Output);
            int exit = await client.WaitForExitAsync(TimeSpan.FromSeconds(90));
            Assert.True(exit == 0, $"client: {client.Output}\nbalancers: {second.Output}");
            Assert.True(client.Output.Contains("conn=0 ok download bytes=60000000", StringComparison.Ordinal), client.Output);

            // The third balancer serves the admin endpoint and counts the flow it was handed.
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{admin}") };
            string status = await http.GetStringAsync(new Uri("/status", UriKind.Relative));
            Assert.Contains("\"flow_taken_over\": 1,", status, StringComparison.Ordinal);
            Assert.Contains($"127.0.0.1:{spare}", status, StringComparison.Ordinal); // it read the configuration as changed
        }
        finally
        {
            if (third != 0)
            {
                RunningProcess.Signal(third, 15);
            }

            first?.Dispose();
            second?.Dispose();
            await Task.Delay(200);
            Directory.Delete(folder, recursive: true);
        }
    }

    [GeneratedRegex("SIGUSR2: started process (\\d+)")]
    private static partial Regex StartedProcess();
}
