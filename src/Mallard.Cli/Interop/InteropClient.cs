using System.Net;
using System.Net.Security;
using System.Text;
using Mallard.Cli.Quic;
using Mallard.Http3;
using Mallard.Quic;

namespace Mallard.Cli.Interop;

/// <summary>
/// The interop client: fetches every URL over hq-interop (or HTTP/3 in the http3 case) into the downloads directory. All
/// requests share one connection on parallel streams, except in handshakeloss, where each file
/// gets its own connection (as the runner's multiconnect case asks).
/// </summary>
internal sealed class InteropClient(DirectoryInfo downloads, bool insecure, InteropTestCase testCase, TextWriter output, TextWriter error)
{
    /// <summary>In keyupdate, a key update every this many packets sent.</summary>
    private const int KeyUpdateInterval = 32;

    public async Task<int> RunAsync(IReadOnlyList<string> urls)
    {
        downloads.Create();
        Uri[] requests = [.. urls.Select(ParseUrl)];
        try
        {
            if (testCase == InteropTestCase.Http3)
            {
                await FetchOverHttp3Async(requests).ConfigureAwait(false);
            }
            else if (testCase is InteropTestCase.Resumption or InteropTestCase.ZeroRtt)
            {
                await FetchWithResumptionAsync(requests).ConfigureAwait(false);
            }
            else if (testCase == InteropTestCase.HandshakeLoss)
            {
                foreach (Uri url in requests)
                {
                    await using QuicConnection connection = await ConnectAsync(url).ConfigureAwait(false);
                    await FetchAsync(connection, url).ConfigureAwait(false);
                    await connection.CloseAsync(0).ConfigureAwait(false);
                }
            }
            else
            {
                await using QuicConnection connection = await ConnectAsync(requests[0]).ConfigureAwait(false);
                await Task.WhenAll(requests.Select(url => FetchAsync(connection, url))).ConfigureAwait(false);
                output.WriteLine($"mallard interop client: {requests.Length} files, cipher {connection.NegotiatedCipherSuite}, {connection.KeyUpdates} key updates");
                await connection.CloseAsync(0).ConfigureAwait(false);
            }
        }
        catch (Exception failure) when (failure is QuicException or System.Net.Sockets.SocketException or IOException or Http3Exception)
        {
            // A refused, lost or broken connection, an unresolvable host or an unwritable download: one line, exit 1.
            error.WriteLine($"mallard: {failure.Message}");
            return 1;
        }

        return 0;
    }

    private static Uri ParseUrl(string text) =>
        Uri.TryCreate(text, UriKind.Absolute, out Uri? url) && url.Scheme == "https" ? url : throw new CliException($"\"{text}\" is not an https:// URL.");

    /// <summary>The http3 case: every URL on one HTTP/3 connection, in parallel; anything but 200 fails the run.</summary>
    private async Task FetchOverHttp3Async(Uri[] requests)
    {
        await using Http3ClientConnection connection = await Http3ClientConnection.ConnectAsync(Options(requests[0], "h3")).ConfigureAwait(false);
        await Task.WhenAll(requests.Select(async url =>
        {
            await using Http3Response response = await connection.GetAsync(url).ConfigureAwait(false);
            if (response.StatusCode != 200)
            {
                throw new IOException($"{url}: HTTP status {response.StatusCode}");
            }

            await using FileStream file = File.Create(Path.Combine(downloads.FullName, Path.GetFileName(url.AbsolutePath)));
            await response.Content.CopyToAsync(file).ConfigureAwait(false);
        })).ConfigureAwait(false);
        output.WriteLine($"mallard interop client: {requests.Length} files over HTTP/3, cipher {connection.QuicConnection.NegotiatedCipherSuite}, {connection.QpackDynamicTableInserts} QPACK dynamic table inserts");
    }

    /// <summary>
    /// The resumption case: the first file on one connection, the rest on a second that offers
    /// the ticket the first received; a second handshake the server did not resume fails the run.
    /// In zerortt the second connection sends its requests as 0-RTT early data, and early data
    /// the server refused fails the run.
    /// </summary>
    private async Task FetchWithResumptionAsync(Uri[] requests)
    {
        QuicSessionTicket? ticket;
        await using (QuicConnection first = await ConnectAsync(requests[0]).ConfigureAwait(false))
        {
            await FetchAsync(first, requests[0]).ConfigureAwait(false);
            for (int wait = 0; wait < 100 && first.SessionTicket is null; wait++)
            {
                await Task.Delay(10).ConfigureAwait(false); // the ticket follows the handshake; it is all but always here already
            }

            ticket = first.SessionTicket ?? throw new IOException("the server issued no session ticket");
            await first.CloseAsync(0).ConfigureAwait(false);
        }

        bool zeroRtt = testCase == InteropTestCase.ZeroRtt;
        if (zeroRtt && !ticket.AllowsEarlyData)
        {
            throw new IOException("the server's session ticket does not allow early data");
        }

        QuicClientConnectionOptions resuming = Options(requests[0], "hq-interop");
        resuming.SessionTicket = ticket;
        resuming.EarlyData = zeroRtt;
        await using QuicConnection second = await QuicConnection.ConnectAsync(resuming).ConfigureAwait(false);
        await Task.WhenAll(requests.Skip(1).Select(url => FetchAsync(second, url))).ConfigureAwait(false);
        await second.WaitForHandshakeAsync().ConfigureAwait(false);
        output.WriteLine($"mallard interop client: {requests.Length} files on two connections, the second resumed: {second.IsResumed}, early data accepted: {second.EarlyDataAccepted}");
        await second.CloseAsync(0).ConfigureAwait(false);
        if (!second.IsResumed)
        {
            throw new IOException("the server did not resume the session on the second connection");
        }

        if (zeroRtt && !second.EarlyDataAccepted)
        {
            throw new IOException("the server refused the early data on the second connection");
        }
    }

    private async Task<QuicConnection> ConnectAsync(Uri url) => await QuicConnection.ConnectAsync(Options(url, "hq-interop")).ConfigureAwait(false);

    private QuicClientConnectionOptions Options(Uri url, string applicationProtocol)
    {
        EndPoint remote = IPAddress.TryParse(url.Host.Trim('[', ']'), out IPAddress? address) ? new IPEndPoint(address, url.Port) : new DnsEndPoint(url.Host, url.Port);
        return new QuicClientConnectionOptions
        {
            RemoteEndPoint = remote,
            ApplicationProtocols = [applicationProtocol],
            ServerName = url.HostNameType == UriHostNameType.Dns ? url.Host : null,
            SkipCertificateValidation = insecure,
            CipherSuites = testCase == InteropTestCase.ChaCha20 ? [TlsCipherSuite.TLS_CHACHA20_POLY1305_SHA256] : null,
            KeyUpdateInterval = testCase == InteropTestCase.KeyUpdate ? KeyUpdateInterval : 0,
            KeyLog = QuicCliSupport.KeyLogFromEnvironment(),
            QlogDirectory = QuicCliSupport.QlogDirectoryFromEnvironment(),
            HandshakeTimeout = TimeSpan.FromSeconds(testCase == InteropTestCase.HandshakeLoss ? 60 : 10),
        };
    }

    private async Task FetchAsync(QuicConnection connection, Uri url)
    {
        await using QuicStream stream = await connection.OpenOutboundStreamAsync(QuicStreamType.Bidirectional).ConfigureAwait(false);
        await stream.WriteAsync(Encoding.ASCII.GetBytes($"GET {url.AbsolutePath}\r\n"), completeWrites: true).ConfigureAwait(false);
        string target = Path.Combine(downloads.FullName, Path.GetFileName(url.AbsolutePath));
        await using FileStream file = File.Create(target);
        await stream.CopyToAsync(file).ConfigureAwait(false);
    }
}
