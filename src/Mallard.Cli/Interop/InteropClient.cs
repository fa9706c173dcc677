using System.Net;
using System.Net.Security;
using System.Text;
using Mallard.Cli.Quic;
using Mallard.Quic;

namespace Mallard.Cli.Interop;

/// <summary>
/// The interop client: fetches every URL over hq-interop into the downloads directory. All
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
            if (testCase == InteropTestCase.HandshakeLoss)
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
        catch (Exception failure) when (failure is QuicException or System.Net.Sockets.SocketException or IOException)
        {
            // A refused, lost or broken connection, an unresolvable host or an unwritable download: one line, exit 1.
            error.WriteLine($"mallard: {failure.Message}");
            return 1;
        }

        return 0;
    }

    private static Uri ParseUrl(string text) =>
        Uri.TryCreate(text, UriKind.Absolute, out Uri? url) && url.Scheme == "https" ? url : throw new CliException($"\"{text}\" is not an https:// URL.");

    private async Task<QuicConnection> ConnectAsync(Uri url)
    {
        EndPoint remote = IPAddress.TryParse(url.Host.Trim('[', ']'), out IPAddress? address) ? new IPEndPoint(address, url.Port) : new DnsEndPoint(url.Host, url.Port);
        return await QuicConnection.ConnectAsync(new QuicClientConnectionOptions
        {
            RemoteEndPoint = remote,
            ApplicationProtocols = ["hq-interop"],
            ServerName = url.HostNameType == UriHostNameType.Dns ? url.Host : null,
            SkipCertificateValidation = insecure,
            CipherSuites = testCase == InteropTestCase.ChaCha20 ? [TlsCipherSuite.TLS_CHACHA20_POLY1305_SHA256] : null,
            KeyUpdateInterval = testCase == InteropTestCase.KeyUpdate ? KeyUpdateInterval : 0,
            KeyLog = QuicCliSupport.KeyLogFromEnvironment(),
            QlogDirectory = QuicCliSupport.QlogDirectoryFromEnvironment(),
            HandshakeTimeout = TimeSpan.FromSeconds(testCase == InteropTestCase.HandshakeLoss ? 60 : 10),
        }).ConfigureAwait(false);
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
