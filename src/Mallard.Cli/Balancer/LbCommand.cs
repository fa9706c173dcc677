using System.CommandLine;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Mallard.Balancer;
using Mallard.Balancer.Configuration;
using Microsoft.Extensions.Logging;

namespace Mallard.Cli.Balancer;

/// <summary>
/// <c>mallard lb</c>: runs the QUIC-aware UDP load balancer until SIGTERM or Ctrl-C. Reloads its
/// configuration file on SIGHUP and when the file changes; a reload that fails validation is
/// logged and the running configuration stays.
/// </summary>
internal static class LbCommand
{
    private static readonly TimeSpan ReloadSettleTime = TimeSpan.FromMilliseconds(250);

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
        catch (IOException failure)
        {
            throw new CliException($"cannot bind the admin address {settings.Admin}: {failure.Message}");
        }

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
            using var reloader = new ConfigReloader(path, balancer, ReloadSettleTime);
            using PosixSignalRegistration hangUp = PosixSignalRegistration.Create(PosixSignal.SIGHUP, signal =>
            {
                signal.Cancel = true;
                reloader.ReloadNow();
            });
            await stop.Task.ConfigureAwait(false);
        }

        return 0;
    }
}
