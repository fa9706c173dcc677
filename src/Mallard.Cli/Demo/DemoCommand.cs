using System.CommandLine;
using Mallard.Balancer.Configuration;
using Mallard.Cli.Quic;

namespace Mallard.Cli.Demo;

/// <summary><c>mallard demo</c>: a QUIC connection surviving a NAT rebinding through mallard lb (or, with <c>--steering</c>, behind a 4-tuple router with steering servers), in one command.</summary>
internal static class DemoCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var megabytes = new Option<int>("--megabytes") { Description = "Size of the download.", DefaultValueFactory = _ => 20 };
        var returnPath = new Option<string>("--return-path") { Description = "The balancer's return path: per-client-address (the server follows the client) or per-connection (the balancer hides the move).", DefaultValueFactory = _ => "per-client-address" };
        var hold = new Option<int?>("--hold")
        {
            Description = "After the download, keep everything running with telemetry flowing, to look at the balancer's dashboard: until Ctrl+C, or for the given number of seconds.",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var steering = new Option<string?>("--steering")
        {
            Description = "Root: show the same without mallard lb, in network namespaces: a 4-tuple router in front of three servers that steer (mallard steer) in auto (default), native, generic or user mode.",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var routed = new Option<bool>("--routed") { Description = "With --steering: each server on a segment of its own behind the router; steered packets travel wrapped in VXLAN." };
        var http3 = new Option<bool>("--http3") { Description = "The same with HTTP/3: two ASP.NET Core apps on Mallard.Quic behind mallard lb, an HTTP/3 download across the NAT rebinding, then a second connection that resumes the TLS session." };
        var command = new Command("demo", "Run two QUIC servers behind mallard lb on loopback and show one connection surviving a NAT rebinding (--http3: HTTP/3 apps; --steering: behind a 4-tuple router, the servers steering).") { megabytes, returnPath, hold, steering, routed, http3 };
        command.SetAction(parse => MallardCommand.Guard(error, () =>
        {
            if (parse.GetResult(steering) is not null)
            {
                string steerMode = parse.GetValue(steering) ?? "auto";
                if (steerMode is not ("auto" or "native" or "generic" or "user"))
                {
                    throw new CliException($"--steering {steerMode}: the mode is auto, native, generic or user.");
                }

                using QuicCliSupport.StopSignal stopSteering = QuicCliSupport.OnTerminate();
                return new SteeringDemoRunner(steerMode, parse.GetValue(routed), output).RunAsync(stopSteering.Token).GetAwaiter().GetResult();
            }

            if (parse.GetValue(routed))
            {
                throw new CliException("--routed goes with --steering.");
            }

            int size = parse.GetValue(megabytes);
            if (size is < 1 or > 10_000)
            {
                throw new CliException($"--megabytes {size} is out of range; it must be 1 to 10000.");
            }

            if (parse.GetValue(http3))
            {
                if (parse.GetResult(hold) is { Implicit: false } || parse.GetResult(returnPath) is { Implicit: false })
                {
                    throw new CliException("--http3 goes with --megabytes only.");
                }

                using QuicCliSupport.StopSignal stopHttp3 = QuicCliSupport.OnTerminate();
                return new DemoHttp3Runner(size, output).RunAsync(stopHttp3.Token).GetAwaiter().GetResult();
            }

            ReturnPathMode mode = parse.GetValue(returnPath) switch
            {
                "per-client-address" => ReturnPathMode.PerClientAddress,
                "per-connection" => ReturnPathMode.PerConnection,
                var other => throw new CliException($"--return-path \"{other}\" is not per-client-address or per-connection."),
            };
            // --hold alone: until stopped; --hold N: N seconds.
            TimeSpan? holdFor = parse.GetResult(hold) is null ? null : parse.GetValue(hold) is int seconds ? TimeSpan.FromSeconds(seconds) : Timeout.InfiniteTimeSpan;
            if (holdFor is { } chosen && chosen != Timeout.InfiniteTimeSpan && chosen.TotalSeconds is < 1 or > 86_400)
            {
                throw new CliException($"--hold {chosen.TotalSeconds} is out of range; it must be 1 to 86400 seconds, or nothing to hold until stopped.");
            }

            using QuicCliSupport.StopSignal stop = QuicCliSupport.OnTerminate();
            return new DemoRunner(size, mode, output, holdFor).RunAsync(stop.Token).GetAwaiter().GetResult();
        }));
        return command;
    }
}
