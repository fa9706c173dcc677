using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Mallard.Cli.Quic;
using Mallard.Quic;

namespace Mallard.Cli.Siduck;

/// <summary>
/// <c>mallard siduck serve</c>: answers every "quack" datagram with "quack-ack" and closes a
/// connection that sends anything else with SIDUCK_ONLY_QUACKS_ECHO (0x101). Runs until SIGTERM or Ctrl-C.
/// </summary>
internal sealed class SiduckServer(IPEndPoint listen, X509Certificate2? certificate, string? qlogDirectory, TextWriter output)
{
    /// <summary>The connection IDs to issue (QUIC-LB ones, behind mallard lb), or null for random ones.</summary>
    public Mallard.Quic.Connections.IConnectionIdGenerator? ConnectionIds { get; init; }

    public async Task<int> RunAsync(CancellationToken stop)
    {
        QuicListener listener;
        try
        {
            listener = await QuicListener.ListenAsync(new QuicListenerOptions
            {
                ListenEndPoint = listen,
                ApplicationProtocols = SiduckProtocol.ApplicationProtocols,
                ServerCertificate = certificate,
                ConnectionIdGenerator = ConnectionIds,
                ConnectionOptions = new QuicConnectionOptions
                {
                    EnableDatagrams = true,
                    KeyLog = QuicCliSupport.KeyLogFromEnvironment(),
                    QlogDirectory = qlogDirectory,
                },
            }).ConfigureAwait(false);
        }
        catch (SocketException failure)
        {
            throw new CliException($"--listen {listen}: cannot bind: {failure.Message}");
        }

        await using (listener.ConfigureAwait(false))
        {
            Log($"mallard siduck: listening on {listener.LocalEndPoint} (ALPN {string.Join(", ", SiduckProtocol.ApplicationProtocols)})");
            try
            {
                while (true)
                {
                    QuicConnection connection = await listener.AcceptConnectionAsync(stop).ConfigureAwait(false);
                    _ = Task.Run(() => ServeAsync(connection));
                }
            }
            catch (OperationCanceledException)
            {
                return 0;
            }
        }
    }

    private async Task ServeAsync(QuicConnection connection)
    {
        await using (connection.ConfigureAwait(false))
        {
            IPEndPoint peer = connection.RemoteEndPoint;
            Log($"{peer}: connected, ALPN {connection.NegotiatedApplicationProtocol}");
            long quacks = 0;
            await foreach (byte[] datagram in connection.ReadDatagramsAsync().ConfigureAwait(false))
            {
                if (!datagram.AsSpan().SequenceEqual(SiduckProtocol.Quack))
                {
                    Log($"{peer}: \"{Printable(datagram)}\" is not a quack; closing with 0x101 (SIDUCK_ONLY_QUACKS_ECHO)");
                    await connection.CloseAsync(SiduckProtocol.OnlyQuacksEcho).ConfigureAwait(false);
                    return;
                }

                quacks++;
                QuicDatagramSendStatus status = connection.TrySendDatagram(SiduckProtocol.QuackAck.ToArray());
                if (status != QuicDatagramSendStatus.Queued)
                {
                    Log($"{peer}: quack-ack not sent: {status}");
                }
            }

            Log($"{peer}: closed after {quacks} quack{(quacks == 1 ? "" : "s")}");
        }
    }

    private static string Printable(byte[] payload)
    {
        string text = Encoding.UTF8.GetString(payload, 0, Math.Min(payload.Length, 32));
        return new string([.. text.Select(c => char.IsControl(c) ? '.' : c)]) + (payload.Length > 32 ? "…" : "");
    }

    private void Log(string line)
    {
        lock (output)
        {
            output.WriteLine(line);
            output.Flush();
        }
    }
}
