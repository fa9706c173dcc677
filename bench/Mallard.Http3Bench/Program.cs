using System.Diagnostics;
using System.Globalization;
using System.Net;
using Mallard.Http3;
using Mallard.Quic;

// The Mallard side of bench/h3-client-vs-quicgo.sh: COUNT GETs of URL over one HTTP/3 connection,
// PARALLEL at a time, after WARMUP uncounted ones; prints the line the quic-go client
// (tests/Mallard.Quic.AspNetCore.Tests/QuicGoHttp3 -quiet) prints, so the script reads both alike.
//   URL [COUNT=30000] [PARALLEL=16] [WARMUP=20000]
if (args.Length < 1 || !Uri.TryCreate(args[0], UriKind.Absolute, out Uri? url))
{
    Console.Error.WriteLine("usage: Mallard.Http3Bench https://HOST:PORT/PATH [COUNT PARALLEL WARMUP]");
    return 2;
}

int Arg(int index, int fallback) => args.Length > index ? int.Parse(args[index], CultureInfo.InvariantCulture) : fallback;
int count = Arg(1, 30_000), parallel = Arg(2, 16), warmup = Arg(3, 20_000);

await using Http3ClientConnection connection = await Http3ClientConnection.ConnectAsync(new QuicClientConnectionOptions
{
    RemoteEndPoint = new IPEndPoint(IPAddress.Parse(url.Host), url.Port),
    ApplicationProtocols = ["h3"],
    SkipCertificateValidation = true,
});

int failed = 0;
await RunAsync(warmup);
failed = 0;
long start = Stopwatch.GetTimestamp();
await RunAsync(count);
double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"done requests={count} failed={failed} seconds={seconds:0.000} requests_per_s={count / seconds:0.0}"));
return failed == 0 ? 0 : 1;

async Task RunAsync(int requests)
{
    int next = 0;
    await Task.WhenAll(Enumerable.Range(0, parallel).Select(async _ =>
    {
        byte[] buffer = new byte[4096];
        while (Interlocked.Increment(ref next) <= requests)
        {
            try
            {
                await using Http3Response response = await connection.GetAsync(url);
                while (await response.Content.ReadAsync(buffer) > 0)
                {
                }

                if (response.StatusCode != 200)
                {
                    Interlocked.Increment(ref failed);
                }
            }
            catch (Exception failure) when (failure is Http3Exception or QuicException)
            {
                Interlocked.Increment(ref failed);
            }
        }
    }));
}
