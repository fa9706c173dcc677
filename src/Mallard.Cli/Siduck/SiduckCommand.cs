using System.CommandLine;
using System.Net;
using System.Text;
using Mallard.Cli.Quic;

namespace Mallard.Cli.Siduck;

/// <summary><c>mallard siduck serve|quack</c>: the SiDUCK DATAGRAM test protocol (draft-pardue-quic-siduck-00).</summary>
internal static class SiduckCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var command = new Command("siduck", "SiDUCK: \"quack\" → \"quack-ack\" over QUIC DATAGRAM frames (ALPN siduck and siduck-00).");
        command.Subcommands.Add(CreateServe(output, error));
        command.Subcommands.Add(CreateQuack(output, error));
        return command;
    }

    private static Option<string?> QlogOption() => new("--qlog-dir", "-q")
    {
        Description = "Write a qlog (JSON-SEQ .sqlog) per connection into this directory (default: $QLOGDIR).",
        DefaultValueFactory = _ => QuicCliSupport.QlogDirectoryFromEnvironment(),
    };

    private static Command CreateServe(TextWriter output, TextWriter error)
    {
        var listen = new Option<string>("--listen") { Description = "Address to listen on.", DefaultValueFactory = _ => "127.0.0.1:4433" };
        var cert = new Option<FileInfo?>("--cert") { Description = "PEM certificate (a self-signed one is made without it)." };
        var key = new Option<FileInfo?>("--key") { Description = "PEM private key of --cert." };
        Option<string?> qlog = QlogOption();
        var serverId = new Option<string?>("--server-id")
        {
            Description = "Issue QUIC-LB connection IDs that carry this server ID (hex), under the configuration the --config/--config-id/--sid-len/--nonce-len/--cid-key options give, so that mallard lb routes them here.",
        };
        var configOptions = new Cid.CidConfigOptions(keyOption: "--cid-key"); // --key is the certificate's
        var steer = new Option<FileInfo?>("--steer")
        {
            Description = "Steer for itself (root): run mallard steer's configuration FILE in this process, so packets for other servers' IDs that reach this one go on to them.",
        };
        var command = new Command("serve", "Answer every quack with quack-ack until stopped; anything else closes the connection with 0x101.") { listen, cert, key, qlog, serverId, steer };
        configOptions.AddTo(command, encodes: true);
        command.SetAction(parse => MallardCommand.Guard(error, () =>
        {
            IPEndPoint address = QuicCliSupport.ParseEndPoint(parse.GetValue(listen)!, "--listen");
            Mallard.Quic.Connections.IConnectionIdGenerator? connectionIds = null;
            if (parse.GetValue(serverId) is string serverIdHex)
            {
                (Mallard.QuicLb.QuicLbConfig config, byte[] octets) = configOptions.ResolveServer(parse, serverIdHex);
                connectionIds = new Mallard.Quic.Connections.QuicLbConnectionIdGenerator(config, octets);
            }

            var server = new SiduckServer(address, QuicCliSupport.LoadServerCertificate(parse.GetValue(cert), parse.GetValue(key)), QuicCliSupport.CheckQlogDirectory(parse.GetValue(qlog)), output)
            {
                ConnectionIds = connectionIds,
            };
            using QuicCliSupport.StopSignal stop = QuicCliSupport.OnTerminate();
            using Mallard.Steering.Steerer? steerer = StartSteering(parse.GetValue(steer), output);
            int exit = server.RunAsync(stop.Token).GetAwaiter().GetResult();
            if (steerer is not null)
            {
                output.WriteLine($"mallard steer: stopped; {Steering.SteerCommand.Format(steerer)}");
            }

            return exit;
        }));
        return command;
    }

    // A server that steers for itself: the steering configuration runs in this process (its own
    // stack drops packets for other servers' IDs; the steerer sends them on).
    private static Mallard.Steering.Steerer? StartSteering(FileInfo? file, TextWriter output)
    {
        if (file is null)
        {
            return null;
        }

        Mallard.Steering.SteeringSettings settings = Mallard.Steering.SteeringConfigLoader.LoadFile(file.FullName) with { Admin = null };
        try
        {
            Mallard.Steering.Steerer steerer = Mallard.Steering.Steerer.Start(settings);
            string where = steerer.Mode == Mallard.Steering.SteeringMode.UserSpace ? "in user space" : $"{steerer.Mode.ToString().ToLowerInvariant()} XDP";
            output.WriteLine($"mallard siduck: steering on {settings.Interface} ({where}) for this server and {settings.Peers.Count} peers");
            return steerer;
        }
        catch (Mallard.Steering.SteeringException failure)
        {
            throw new CliException(failure.Message);
        }
    }

    private static Command CreateQuack(TextWriter output, TextWriter error)
    {
        var server = new Argument<string>("server") { Description = "HOST:PORT of a SiDUCK server." };
        var insecure = new Option<bool>("--insecure", "-k") { Description = "Accept any server certificate." };
        Option<string?> qlog = QlogOption();
        var count = new Option<int>("--count", "-c") { Description = "Quacks to send, one at a time.", DefaultValueFactory = _ => 1 };
        var interval = new Option<int>("--interval", "-i") { Description = "Milliseconds between quacks.", DefaultValueFactory = _ => 1000 };
        var timeout = new Option<int>("--timeout") { Description = "Milliseconds to wait for each quack-ack.", DefaultValueFactory = _ => 1000 };
        var message = new Option<string>("--message") { Description = "Send this instead of \"quack\" (to see the server close with 0x101).", DefaultValueFactory = _ => "quack" };
        var migrateEvery = new Option<int>("--migrate-every") { Description = "Move the connection to a new local port before every this many quacks (RFC 9000 section 9; 0: never).", DefaultValueFactory = _ => 0 };
        var command = new Command("quack", "Send quacks, print each quack-ack's round-trip time and a summary.") { server, insecure, qlog, count, interval, timeout, message, migrateEvery };
        command.SetAction(parse => MallardCommand.Guard(error, () =>
        {
            (EndPoint remote, string? serverName) = ParseServer(parse.GetValue(server)!);
            var options = new SiduckClientOptions(
                remote,
                serverName,
                parse.GetValue(insecure),
                InRange(parse.GetValue(count), "--count", 1, 1_000_000),
                TimeSpan.FromMilliseconds(InRange(parse.GetValue(interval), "--interval", 0, 3_600_000)),
                TimeSpan.FromMilliseconds(InRange(parse.GetValue(timeout), "--timeout", 1, 3_600_000)),
                Encoding.UTF8.GetBytes(parse.GetValue(message)!),
                QuicCliSupport.CheckQlogDirectory(parse.GetValue(qlog)))
            {
                MigrateEvery = InRange(parse.GetValue(migrateEvery), "--migrate-every", 0, 1_000_000),
            };
            using QuicCliSupport.StopSignal stop = QuicCliSupport.OnTerminate();
            return new SiduckClient(options, output, error).RunAsync(stop.Token).GetAwaiter().GetResult();
        }));
        return command;
    }

    private static int InRange(int value, string option, int minimum, int maximum) =>
        value >= minimum && value <= maximum ? value : throw new CliException($"{option} {value} is out of range; it must be {minimum} to {maximum}.");

    /// <summary>An IP literal (with [ ] for IPv6) or a host name, then ":port".</summary>
    private static (EndPoint Remote, string? ServerName) ParseServer(string text)
    {
        if (IPEndPoint.TryParse(text, out IPEndPoint? address) && address.Port != 0)
        {
            return (address, null);
        }

        int colon = text.LastIndexOf(':');
        if (colon > 0 && int.TryParse(text.AsSpan(colon + 1), out int port) && port is > 0 and <= 65_535 && Uri.CheckHostName(text[..colon]) == UriHostNameType.Dns)
        {
            return (new DnsEndPoint(text[..colon], port), text[..colon]);
        }

        throw new CliException($"\"{text}\" is not HOST:PORT, for example 127.0.0.1:4433 or localhost:4433.");
    }
}
