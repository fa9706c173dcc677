using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Text.RegularExpressions;

namespace Mallard.Cli.Demo;

/// <summary>
/// <c>mallard demo --steering</c> (root): the demo's story without <c>mallard lb</c>. In network
/// namespaces, a router hashes the 4-tuple over three Mallard.Quic SiDUCK servers that answer the
/// client directly, each running <c>mallard steer</c>. The client's NAT moves it to new public
/// addresses until the router sends it to another server; that server steers its packets to the
/// owner of their connection ID, and the exchange goes on. Every server and steerer is a child
/// process of this one, inside its namespace; everything is removed at the end.
/// </summary>
internal sealed partial class SteeringDemoRunner(string mode, bool routed, TextWriter output)
{
    private const int Quacks = 400;
    private static readonly string[] Names = ["A", "B", "C"];
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    public async Task<int> RunAsync(CancellationToken stop)
    {
        if (Environment.UserName != "root")
        {
            throw new CliException("mallard demo --steering makes network namespaces and loads XDP programs: run it as root (sudo).");
        }

        Log("mallard demo --steering: one QUIC connection through a 4-tuple router while the client's NAT rebinds; the servers steer");
        using var network = new SteeringDemoNetwork(routed);
        Log($"network   client (10.79.0.2) — NAT — router hashing the 4-tuple over servers A, B, C (ECMP, like IPVS or a cloud balancer) — "
            + (routed ? "each server on a segment of its own; steered packets travel in VXLAN" : "one L2 segment"));
        Log($"          every server holds the service address {SteeringDemoNetwork.ServiceAddress} and answers the client directly");
        var children = new List<DemoChild>();
        try
        {
            for (int i = 0; i < 3; i++)
            {
                children.Add(await StartAsync(network.Servers[i], "listening on", stop, "siduck", "serve", "--listen", $"{SteeringDemoNetwork.ServiceAddress}:4433",
                    "--server-id", SteeringDemoNetwork.ServerIds[i], "--config-id", "0", "--sid-len", "4", "--nonce-len", "8").ConfigureAwait(false));
            }

            Log("servers   A, B, C: mallard siduck serve, issuing QUIC-LB connection IDs that carry 41414141, 42424242, 43434343 (config 0, plaintext)");
            var steerers = new DemoChild[3];
            for (int i = 0; i < 3; i++)
            {
                steerers[i] = await StartAsync(network.Servers[i], "steering on", stop, "steer", "--config", network.SteeringConfig(i, mode, 8, null)).ConfigureAwait(false);
                children.Add(steerers[i]);
            }

            Match how = SteeringMode().Match(steerers[0].Output);
            Log($"steering  mallard steer on every server ({(how.Success ? how.Groups[1].Value : mode)}), each knowing the other two's MACs and server IDs");

            DemoChild client = network.Client.Start([.. Self(), "siduck", "quack", $"{SteeringDemoNetwork.ServiceAddress}:4433", "-k",
                "--count", Quacks.ToString(CultureInfo.InvariantCulture), "--interval", "25", "--timeout", "1000"]);
            children.Add(client);
            if (!await client.WaitForOutputAsync("seq=40 ", TimeSpan.FromSeconds(30), stop).ConfigureAwait(false))
            {
                throw new CliException($"the client did not get going:\n{client.Output}");
            }

            int owner = network.Carrier();
            Log($"client    quacking every 25 ms as {network.PublicAddress}; the router sends it to server {Names[owner]}, which answers");
            (int moves, int carrier) = await network.RebindUntilAnotherServerAsync(
                (address, server) => Log($"NAT       the client's public address is now {address}: the router sends it to server {Names[server]}"),
                stop).ConfigureAwait(false);
            int answeredAtMove = Answered(client.Output);
            await Task.Delay(3000, stop).ConfigureAwait(false);
            int answeredSince = Answered(client.Output) - answeredAtMove;
            Log($"client    {answeredSince} quack-acks in the 3 s since: server {Names[carrier]} hands the packets to {Names[owner]}, which answers from the service address");

            await client.WaitForExitAsync(TimeSpan.FromSeconds(60), stop).ConfigureAwait(false);
            Match statistics = Statistics().Match(client.Output);
            int received = statistics.Success ? int.Parse(statistics.Groups[1].Value, CultureInfo.InvariantCulture) : 0;
            for (int i = 0; i < 3; i++)
            {
                await steerers[i].StopAsync().ConfigureAwait(false);
                string stopped = steerers[i].Output;
                Log($"steering  server {Names[i]}: {StoppedCounter(stopped, "steered") + StoppedCounter(stopped, "steered_learned")} packets steered to another server, {StoppedCounter(stopped, "own")} its own");
            }

            Log($"client    {Quacks} quacks sent, {received} quack-acks received ({moves} NAT rebindings)");
            bool survived = answeredSince > 0 && received >= Quacks - moves - 2;
            Log(survived
                ? $"the connection survived the rebinding: one connection, no reconnect, server {Names[owner]} all along"
                : "the connection did not survive the rebinding");
            if (!survived)
            {
                for (int i = 0; i < 3; i++)
                {
                    Log($"server {Names[i]}: {Stopped().Match(steerers[i].Output).Value}");
                }
            }

            return survived ? 0 : 1;
        }
        finally
        {
            children.ForEach(c => c.Dispose());
        }
    }

    // The command that runs this program again: the host and mallard.dll under dotnet, else the
    // apphost or the Native AOT binary itself (which has no assembly file to name).
    private static string[] Self()
    {
        string host = Environment.ProcessPath!;
        return Path.GetFileNameWithoutExtension(host) == "dotnet"
            ? [host, Path.Combine(AppContext.BaseDirectory, typeof(SteeringDemoRunner).Assembly.GetName().Name + ".dll")]
            : [host];
    }

    /// <summary>The quack-acks in <c>mallard siduck quack</c>'s output so far.</summary>
    internal static int Answered(string output) => QuackAck().Matches(output).Count;

    /// <summary>A counter of <c>mallard steer</c>'s last line ("stopped; xdp: …; user space: …"), summed over both parts.</summary>
    internal static long StoppedCounter(string output, string name) =>
        Regex.Matches(Stopped().Match(output).Value, $"(?<![a-z_]){name}=(\\d+)").Sum(m => long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture));

    private async Task<DemoChild> StartAsync(DemoNamespace where, string ready, CancellationToken stop, params string[] arguments)
    {
        DemoChild child = where.Start([.. Self(), .. arguments]);
        if (!await child.WaitForOutputAsync(ready, TimeSpan.FromSeconds(30), stop).ConfigureAwait(false))
        {
            string failure = child.Output;
            child.Dispose();
            throw new CliException($"mallard {arguments[0]} did not start in {where.Name}:\n{failure}");
        }

        return child;
    }

    private void Log(string line)
    {
        output.WriteLine($"[{_clock.Elapsed.TotalSeconds,5:0.00} s] {line}");
        output.Flush();
    }

    [GeneratedRegex("quack-ack from ")]
    private static partial Regex QuackAck();

    [GeneratedRegex("quacks sent, (\\d+) quack-acks received")]
    private static partial Regex Statistics();

    [GeneratedRegex("stopped; .*")]
    private static partial Regex Stopped();

    [GeneratedRegex("\\((in user space|native XDP|generic XDP)")]
    private static partial Regex SteeringMode();
}
