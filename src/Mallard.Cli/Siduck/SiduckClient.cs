using System.Diagnostics;
using System.Text;
using Mallard.Cli.Quic;
using Mallard.Quic;

namespace Mallard.Cli.Siduck;

/// <summary>
/// <c>mallard siduck quack</c>: sends "quack" datagrams one at a time, waits for each
/// "quack-ack", prints every round-trip time and a summary. A lost quack or ack is reported and
/// the next one goes on (datagrams are unreliable). Exits 0 when every quack was answered.
/// </summary>
internal sealed class SiduckClient(SiduckClientOptions options, TextWriter output, TextWriter error)
{
    public async Task<int> RunAsync(CancellationToken stop)
    {
        QuicConnection connection;
        try
        {
            connection = await QuicConnection.ConnectAsync(new QuicClientConnectionOptions
            {
                RemoteEndPoint = options.Server,
                ApplicationProtocols = SiduckProtocol.ApplicationProtocols,
                ServerName = options.ServerName,
                SkipCertificateValidation = options.Insecure,
                EnableDatagrams = true,
                UnsafeInlineDatagramReads = true, // what follows each read only records and prints: it never blocks
                KeyLog = QuicCliSupport.KeyLogFromEnvironment(),
                QlogDirectory = options.QlogDirectory,
            }, stop).ConfigureAwait(false);
        }
        catch (Exception failure) when (failure is QuicException or System.Net.Sockets.SocketException)
        {
            error.WriteLine($"mallard: {failure.Message}");
            return 1;
        }

        await using (connection.ConfigureAwait(false))
        {
            output.WriteLine($"connected to {connection.RemoteEndPoint}, ALPN {connection.NegotiatedApplicationProtocol}, max datagram {connection.MaxDatagramSize} octets");
            var roundTrips = new List<double>();
            int sent = 0;
            try
            {
                for (int i = 0; i < options.Count && !stop.IsCancellationRequested; i++)
                {
                    if (i > 0)
                    {
                        await Task.Delay(options.Interval, stop).ConfigureAwait(false);
                    }

                    // The client's own address change (RFC 9000 section 9): what a NAT
                    // rebinding looks like to the server, made here on purpose.
                    if (options.MigrateEvery > 0 && i > 0 && i % options.MigrateEvery == 0)
                    {
                        await connection.MigrateAsync(cancellationToken: stop).ConfigureAwait(false);
                        output.WriteLine($"moved to local port {connection.LocalEndPoint.Port}");
                    }

                    sent++;
                    long start = Stopwatch.GetTimestamp();
                    connection.SendDatagram(options.Message);
                    if (await WaitForAckAsync(connection, stop).ConfigureAwait(false))
                    {
                        double milliseconds = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
                        roundTrips.Add(milliseconds);
                        output.WriteLine($"quack-ack from {connection.RemoteEndPoint}: seq={i + 1} time={milliseconds:0.000} ms");
                    }
                    else
                    {
                        output.WriteLine($"no quack-ack within {options.Timeout.TotalMilliseconds:0} ms: seq={i + 1}");
                    }
                }

                await connection.CloseAsync(0).ConfigureAwait(false);
            }
            catch (QuicException failure)
            {
                error.WriteLine($"mallard: {Explain(failure)}");
                PrintSummary(sent, roundTrips);
                return 1;
            }
            catch (OperationCanceledException)
            {
            }

            PrintSummary(sent, roundTrips);
            return roundTrips.Count == sent && sent > 0 ? 0 : 1;
        }
    }

    private static string Explain(QuicException failure) => failure.QuicError == QuicError.ConnectionAborted && failure.ApplicationErrorCode == SiduckProtocol.OnlyQuacksEcho
        ? $"the server closed the connection with 0x101 (SIDUCK_ONLY_QUACKS_ECHO): {failure.Message}"
        : failure.Message;

    /// <summary>True when "quack-ack" arrives in time; any other payload breaks the protocol and closes with 0x101.</summary>
    private async Task<bool> WaitForAckAsync(QuicConnection connection, CancellationToken stop)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stop);
        timeout.CancelAfter(options.Timeout);
        byte[] answer;
        try
        {
            answer = await connection.ReadDatagramAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!stop.IsCancellationRequested)
        {
            return false;
        }

        if (!answer.AsSpan().SequenceEqual(SiduckProtocol.QuackAck))
        {
            await connection.CloseAsync(SiduckProtocol.OnlyQuacksEcho).ConfigureAwait(false);
            throw new QuicException(QuicError.OperationAborted, SiduckProtocol.OnlyQuacksEcho, null, $"the server answered \"{Encoding.UTF8.GetString(answer)}\" instead of quack-ack; closed with 0x101 (SIDUCK_ONLY_QUACKS_ECHO)");
        }

        return true;
    }

    private void PrintSummary(int sent, List<double> roundTrips)
    {
        int lost = sent - roundTrips.Count;
        output.WriteLine($"--- {options.Server} siduck statistics ---");
        output.Write($"{sent} quacks sent, {roundTrips.Count} quack-acks received, {(sent == 0 ? 0 : 100.0 * lost / sent):0.#}% lost");
        if (roundTrips.Count > 0)
        {
            roundTrips.Sort();
            output.Write($", rtt min/avg/p50/max = {roundTrips[0]:0.000}/{roundTrips.Average():0.000}/{roundTrips[roundTrips.Count / 2]:0.000}/{roundTrips[^1]:0.000} ms");
        }

        output.WriteLine();
    }
}
