using System.CommandLine;
using System.Diagnostics;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Mallard.Balancer;
using Mallard.Balancer.Configuration;
using Mallard.Balancer.HandOver;
using Microsoft.Extensions.Logging;

namespace Mallard.Cli.Balancer;

/// <summary>
/// <c>mallard lb</c>: runs the QUIC-aware UDP load balancer until SIGTERM or Ctrl-C. Reloads its
/// configuration file on SIGHUP and when the file changes; a reload that fails validation is
/// logged and the running configuration stays. With <c>Proxy:HandOverSocket</c>, SIGUSR2 starts
/// the same command line again (the binary on disk now: an upgrade), and the new process takes
/// over the sockets and flows; this one exits once it has (see <see cref="LoadBalancer.HandedOver"/>).
/// </summary>
internal static class LbCommand
{
    private static readonly TimeSpan ReloadSettleTime = TimeSpan.FromMilliseconds(250);

    // SIGUSR2 on Linux (x86-64 and arm64); .NET takes raw signal numbers.
    private const PosixSignal SignalUser2 = (PosixSignal)12;

    public static Command Create(TextWriter output, TextWriter error)
    {
        var config = new Option<FileInfo?>("--config", "-c")
        {
            Description = "JSON configuration (section Mallard:Balancer); without it, the built-in default on 127.0.0.1 (see README).",
        };
        var check = new Option<bool>("--check")
        {
            Description = "Validate the configuration, print a summary and exit.",
        };
        var command = new Command("lb", "Run the QUIC-aware UDP load balancer (routes by QUIC-LB server IDs, draft-ietf-quic-load-balancers-21).")
        {
            config,
            check,
        };
        command.SetAction(parse => MallardCommand.Guard(error, () =>
        {
            string? path = parse.GetValue(config)?.FullName;
            BalancerSettings settings = BalancerConfigLoader.LoadFile(path);
            if (parse.GetValue(check))
            {
                output.WriteLine($"configuration is valid: {settings.Listeners.Count} listeners, {settings.Configs.Count} QUIC-LB configs, {settings.Backends.Count} backends, {settings.Workers} workers.");
                return 0;
            }

            return RunAsync(path, settings).GetAwaiter().GetResult();
        }));
        return command;
    }

    private static async Task<int> RunAsync(string? path, BalancerSettings settings)
    {
        using ILoggerFactory loggers = LoggerFactory.Create(logging => logging
            .SetMinimumLevel(LogLevel.Information)
            .AddSimpleConsole(console =>
            {
                console.SingleLine = true;
                console.TimestampFormat = "HH:mm:ss.fff ";
            }));
        LoadBalancer balancer;
        try
        {
            balancer = await LoadBalancer.StartAsync(settings, loggers).ConfigureAwait(false);
        }
        catch (SocketException failure)
        {
            throw new CliException($"cannot bind a listening or admin address: {failure.Message}");
        }
        catch (HandOverRefusedException failure)
        {
            throw new CliException(failure.Message);
        }
        catch (IOException failure)
        {
            throw new CliException($"cannot bind the admin address {settings.Admin}: {failure.Message}");
        }

        ILogger logger = loggers.CreateLogger("Mallard.Cli.Lb");

        await using (balancer.ConfigureAwait(false))
        {
            var stop = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            void Stop(PosixSignalContext signal)
            {
                signal.Cancel = true;
                stop.TrySetResult();
            }

            using PosixSignalRegistration term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
            using PosixSignalRegistration interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
            using var reloader = new ConfigReloader(path, () => Reload(path, balancer), ReloadSettleTime);
            using PosixSignalRegistration hangUp = PosixSignalRegistration.Create(PosixSignal.SIGHUP, signal =>
            {
                signal.Cancel = true;
                reloader.ReloadNow();
            });
            using PosixSignalRegistration upgrade = PosixSignalRegistration.Create(SignalUser2, signal =>
            {
                signal.Cancel = true;
                StartSuccessor(settings, balancer, logger);
            });
            // Under systemd (Type=notify): this process is the service now, also when it took over;
            // said only once every signal is handled, so that a reload at once cannot kill it.
            SystemdNotifier.Notify($"READY=1\nMAINPID={Environment.ProcessId}");
            logger.LogInformation("Running: SIGHUP reloads the configuration, SIGUSR2 hands over to a new process, SIGTERM stops");
            if (await Task.WhenAny(stop.Task, balancer.HandedOver).ConfigureAwait(false) == stop.Task)
            {
                SystemdNotifier.Notify("STOPPING=1");
            }
        }

        return 0;
    }

    /// <summary>Reads and validates the configuration and swaps it in, or logs why not.</summary>
    private static void Reload(string? path, LoadBalancer balancer)
    {
        try
        {
            balancer.Reload(BalancerConfigLoader.LoadFile(path));
        }
        catch (MallardConfigException failure)
        {
            balancer.RejectReload(failure.Message);
        }
    }

    /// <summary>
    /// SIGUSR2: starts this process's command line again, from the binary on disk now; the new
    /// process takes over through Proxy:HandOverSocket. Its output goes where this one's goes.
    /// </summary>
    private static void StartSuccessor(BalancerSettings settings, LoadBalancer balancer, ILogger logger)
    {
        if (settings.Proxy.HandOverSocket is null)
        {
            logger.LogWarning("SIGUSR2: Proxy:HandOverSocket is off, so no process can take over; set it to restart without losing a packet");
            return;
        }

        // /proc/self/cmdline: the arguments exactly as given, the host's included (dotnet mallard.dll lb ...).
        string[] arguments = File.ReadAllText("/proc/self/cmdline").Split('\0');
        var start = new ProcessStartInfo(Environment.ProcessPath!) { UseShellExecute = false };
        foreach (string argument in arguments.AsSpan(1, Math.Max(0, arguments.Length - 2)))
        {
            start.ArgumentList.Add(argument);
        }

        try
        {
            Process successor = Process.Start(start)!;
            logger.LogInformation("SIGUSR2: started process {Successor} to take over", successor.Id);
            _ = successor.WaitForExitAsync().ContinueWith(
                _ =>
                {
                    if (!balancer.HandedOver.IsCompleted)
                    {
                        logger.LogWarning("The successor {Successor} exited with code {Code} before taking over; this process forwards on", successor.Id, successor.ExitCode);
                    }

                    successor.Dispose();
                },
                TaskScheduler.Default);
        }
        catch (Exception failure) when (failure is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            logger.LogError("SIGUSR2: cannot start a successor: {Problem}", failure.Message);
        }
    }
}
