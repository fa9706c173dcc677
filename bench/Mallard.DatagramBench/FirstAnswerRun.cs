using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using Mallard.Quic;

namespace Mallard.DatagramBench;

/// <summary>
/// The time from connecting to a 64-octet answer on a new stream: full handshakes, resumed ones (a
/// session ticket, the request after the handshake) and 0-RTT (the request in the first flight,
/// RFC 9001 section 4.6), COUNT of each, interleaved so that all three meet the same machine. The
/// same measurement as bench/datagram-go's firstanswer mode.
/// </summary>
internal static class FirstAnswerRun
{
    public static async Task<string> RunAsync(IPEndPoint server, int count)
    {
        QuicSessionTicket? ticket = null;
        for (int i = 0; i < 20; i++)
        {
            // Warm-up (JIT), and a ticket.
            (_, _, ticket) = await OneAsync(server, ticket, earlyData: i % 2 == 1);
        }

        var full = new List<double>();
        var resumed = new List<double>();
        var zeroRtt = new List<double>();
        int accepted = 0;
        for (int i = 0; i < count; i++)
        {
            full.Add((await OneAsync(server, null, earlyData: false)).Milliseconds);
            (double milliseconds, _, QuicSessionTicket? next) = await OneAsync(server, ticket, earlyData: false);
            resumed.Add(milliseconds);
            ticket = next ?? ticket;
            (milliseconds, bool early, next) = await OneAsync(server, ticket, earlyData: true);
            zeroRtt.Add(milliseconds);
            accepted += early ? 1 : 0;
            ticket = next ?? ticket;
        }

        return string.Create(CultureInfo.InvariantCulture,
            $"full_ms_p50={Median(full):0.00} resumed_ms_p50={Median(resumed):0.00} zerortt_ms_p50={Median(zeroRtt):0.00} zerortt_accepted={accepted}/{count}");
    }

    private static double Median(List<double> values)
    {
        values.Sort();
        return values[(values.Count - 1) / 2];
    }

    private static async Task<(double Milliseconds, bool EarlyDataAccepted, QuicSessionTicket? Ticket)> OneAsync(IPEndPoint server, QuicSessionTicket? ticket, bool earlyData)
    {
        long start = Stopwatch.GetTimestamp();
        await using QuicConnection connection = await QuicConnection.ConnectAsync(new QuicClientConnectionOptions
        {
            RemoteEndPoint = server,
            ApplicationProtocols = BenchProtocol.ApplicationProtocols,
            SkipCertificateValidation = true,
            SessionTicket = ticket,
            EarlyData = earlyData,
        });
        await using QuicStream stream = await connection.OpenOutboundStreamAsync(QuicStreamType.Bidirectional);
        byte[] header = new byte[8];
        BinaryPrimitives.WriteInt64BigEndian(header, 64);
        await stream.WriteAsync(header, completeWrites: true);
        byte[] answer = new byte[64];
        await stream.ReadExactlyAsync(answer);
        double milliseconds = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        await connection.WaitForHandshakeAsync();
        for (int i = 0; i < 100 && connection.SessionTicket is null; i++)
        {
            await Task.Delay(1); // the server's ticket follows its Finished
        }

        bool early = connection.EarlyDataAccepted;
        QuicSessionTicket? next = connection.SessionTicket;
        await connection.CloseAsync(0);
        return (milliseconds, early, next);
    }
}
