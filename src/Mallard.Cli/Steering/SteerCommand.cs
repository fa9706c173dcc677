using System.CommandLine;
using System.Runtime.InteropServices;
using Mallard.Balancer.Configuration;
using Mallard.Steering;

namespace Mallard.Cli.Steering;

/// <summary>
/// <c>mallard steer</c>: steering mode on one server behind a 4-tuple tier. Attaches the XDP
/// program to the interface, feeds it this server's and the peers' server IDs, and runs until
/// SIGTERM or Ctrl-C (the program is detached then, and by the kernel should the process die);
/// SIGHUP and a change of the file reload the configuration in place. Root or CAP_BPF and CAP_NET_ADMIN.
/// </summary>
internal static class SteerCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var config = new Option<FileInfo>("--config", "-c")
        {
            Description = "JSON configuration: Mallard:Steering (Interface, ServicePort, Mode, ServerIds, Peers) and Mallard:Balancer:Configs.",
            Required = true,
        };
        var report = new Option<int>("--report")
        {
            Description = "Print the counters every this many seconds (0: only when stopping).",
            DefaultValueFactory = _ => 0,
        };
        var command = new Command("steer", "Steer QUIC packets whose connection ID names another server to it, in XDP or user space (steering mode, behind IPVS-DR or ECMP).") { config, report };
        command.SetAction(parse => MallardCommand.Guard(error, () =>
        {
            string path = parse.GetValue(config)!.FullName;
            int every = parse.GetValue(report);
            if (every < 0)
            {
                throw new CliException($"--report {every}: give the seconds between reports, or 0 for a report only when stopping.");
            }

            SteeringSettings settings = SteeringConfigLoader.LoadFile(path);
            Steerer steerer;
            try
            {
                steerer = Steerer.Start(settings);
            }
            catch (SteeringException failure)
            {
                throw new CliException(failure.Message);
            }

            using (steerer)
            {
                if (steerer.XdpUnavailable is not null)
                {
                    output.WriteLine($"mallard steer: XDP not used, steering in user space: {steerer.XdpUnavailable}");
                }

                if (steerer.Caveat is not null)
                {
                    output.WriteLine($"mallard steer: warning: {steerer.Caveat}");
                }

                string where = steerer.Mode == SteeringMode.UserSpace ? "in user space" : $"{steerer.Mode.ToString().ToLowerInvariant()} XDP";
                output.WriteLine($"mallard steer: steering on {settings.Interface} ({where}, MAC {steerer.OwnMac}), UDP port {settings.ServicePort}: "
                    + $"this server {Describe(settings.ServerIds)}, {settings.Peers.Count} peers");
                SteeringAdmin? admin = null;
                if (settings.Admin is not null)
                {
                    try
                    {
                        admin = SteeringAdmin.StartAsync(settings.Admin, steerer.Status).GetAwaiter().GetResult();
                    }
                    catch (IOException failure)
                    {
                        throw new CliException($"cannot bind the admin address {settings.Admin}: {failure.Message}");
                    }

                    output.WriteLine($"mallard steer: /metrics and /status on http://{admin.Endpoint}");
                }

                output.Flush();
                using var stop = new ManualResetEventSlim();
                void Stop(PosixSignalContext signal)
                {
                    signal.Cancel = true;
                    stop.Set();
                }

                using PosixSignalRegistration term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
                using PosixSignalRegistration interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
                void Reload()
                {
                    try
                    {
                        steerer.Reload(SteeringConfigLoader.LoadFile(path));
                        output.WriteLine("mallard steer: configuration reloaded");
                    }
                    catch (Exception failure) when (failure is MallardConfigException or SteeringException)
                    {
                        output.WriteLine($"mallard steer: reload rejected, the running configuration stays: {failure.Message}");
                    }

                    output.Flush();
                }

                // On SIGHUP and when the file changes; the interface and mode need a restart.
                using var reloader = new ConfigReloader(path, Reload, TimeSpan.FromMilliseconds(250));
                using PosixSignalRegistration hangUp = PosixSignalRegistration.Create(PosixSignal.SIGHUP, signal =>
                {
                    signal.Cancel = true;
                    reloader.ReloadNow();
                });
                while (!stop.Wait(every > 0 ? TimeSpan.FromSeconds(every) : Timeout.InfiniteTimeSpan))
                {
                    output.WriteLine($"mallard steer: {Format(steerer)}");
                    output.Flush();
                }

                admin?.DisposeAsync().AsTask().GetAwaiter().GetResult();
                output.WriteLine($"mallard steer: stopped; {Format(steerer)}");
            }

            return 0;
        }));
        return command;
    }

    private static string Describe(IReadOnlyDictionary<int, byte[]> ids) =>
        string.Join(", ", ids.Select(p => $"{Convert.ToHexStringLower(p.Value)} under config {p.Key}"));

    /// <summary>The counters as one line: "xdp: a=1 b=2 [program_runs=5 program_ns=6]; user space: c=3 learned=4 not_forwarded=0".</summary>
    internal static string Format(Steerer steerer)
    {
        static string Pairs(IReadOnlyDictionary<string, long> counters) => string.Join(' ', counters.Select(c => $"{c.Key}={c.Value}"));
        string userSpace = $"user space: {Pairs(steerer.UserSpaceCounters())}";
        if (steerer.Mode == SteeringMode.UserSpace)
        {
            return userSpace;
        }

        // The kernel's own account of the program, while sysctl kernel.bpf_stats_enabled=1.
        SteeringProgramTime? time = steerer.Status().Program;
        string account = time is { Runs: > 0 } ? $" program_runs={time.Runs} program_ns={time.Nanoseconds}" : string.Empty;
        return $"xdp: {Pairs(steerer.Counters())}{account}; {userSpace}";
    }
}
