using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Mallard.Cli.Quic;
using Mallard.Quic;

namespace Mallard.Cli.Interop;

/// <summary>
/// The interop server: accepts hq-interop connections and answers each "GET /path\r\n" request
/// stream with the file under the root directory, then the FIN. Runs until SIGTERM or Ctrl-C.
/// </summary>
internal sealed class InteropServer(DirectoryInfo root, IPEndPoint listen, FileInfo? certificate, FileInfo? key, InteropTestCase testCase, TextWriter output)
{
    private const int MaxRequestLength = 8192;

    public async Task<int> RunAsync()
    {
        if (!root.Exists)
        {
            throw new CliException($"--root \"{root.FullName}\" does not exist.");
        }

        X509Certificate2? serverCertificate = QuicCliSupport.LoadServerCertificate(certificate, key);

        QuicListener listener;
        try
        {
            listener = await QuicListener.ListenAsync(Options(serverCertificate)).ConfigureAwait(false);
        }
        catch (SocketException failure)
        {
            throw new CliException($"--listen {listen}: cannot bind: {failure.Message}");
        }

        await using (listener.ConfigureAwait(false))
        {
            return await ServeAsync(listener).ConfigureAwait(false);
        }
    }

    private QuicListenerOptions Options(X509Certificate2? serverCertificate) => new()
    {
        ListenEndPoint = listen,
        ApplicationProtocols = ["hq-interop"],
        ServerCertificate = serverCertificate,
        RequireRetry = testCase == InteropTestCase.Retry,
        EarlyData = testCase == InteropTestCase.ZeroRtt,
        CipherSuites = testCase == InteropTestCase.ChaCha20 ? [TlsCipherSuite.TLS_CHACHA20_POLY1305_SHA256] : null,
        ConnectionOptions = new QuicConnectionOptions { KeyLog = QuicCliSupport.KeyLogFromEnvironment(), QlogDirectory = QuicCliSupport.QlogDirectoryFromEnvironment() },
    };

    private async Task<int> ServeAsync(QuicListener listener)
    {
        output.WriteLine($"mallard interop server: {testCase} on {listener.LocalEndPoint}, serving {root.FullName}");
        output.Flush();

        using QuicCliSupport.StopSignal stop = QuicCliSupport.OnTerminate();
        try
        {
            while (true)
            {
                QuicConnection connection = await listener.AcceptConnectionAsync(stop.Token).ConfigureAwait(false);
                if (testCase is InteropTestCase.Resumption or InteropTestCase.ZeroRtt)
                {
                    output.WriteLine($"mallard interop server: connection from {connection.RemoteEndPoint}, resumed: {connection.IsResumed}, early data: {connection.EarlyDataAccepted}");
                    output.Flush();
                }

                _ = Task.Run(() => ServeConnectionAsync(connection));
            }
        }
        catch (OperationCanceledException)
        {
            return 0;
        }
    }

    private async Task ServeConnectionAsync(QuicConnection connection)
    {
        await using (connection.ConfigureAwait(false))
        {
            try
            {
                while (true)
                {
                    QuicStream stream = await connection.AcceptInboundStreamAsync().ConfigureAwait(false);
                    _ = Task.Run(() => ServeStreamAsync(stream));
                }
            }
            catch (QuicException)
            {
                // The client closed the connection or it timed out.
            }
        }
    }

    private async Task ServeStreamAsync(QuicStream stream)
    {
        await using (stream.ConfigureAwait(false))
        {
            try
            {
                byte[] request = new byte[MaxRequestLength];
                int length = 0;
                int read;
                while (length < request.Length && (read = await stream.ReadAsync(request.AsMemory(length)).ConfigureAwait(false)) > 0)
                {
                    length += read;
                }

                string? path = ParseRequest(Encoding.ASCII.GetString(request, 0, length));
                string? file = path is null ? null : Resolve(root, path);
                if (file is null || !File.Exists(file))
                {
                    stream.Abort(QuicAbortDirection.Write, 0x10); // H3-style "not found": no body.
                    return;
                }

                await using FileStream content = File.OpenRead(file);
                byte[] buffer = new byte[64 * 1024];
                while ((read = await content.ReadAsync(buffer).ConfigureAwait(false)) > 0)
                {
                    await stream.WriteAsync(buffer.AsMemory(0, read)).ConfigureAwait(false);
                }

                stream.CompleteWrites();
            }
            catch (QuicException)
            {
            }
        }
    }

    /// <summary>"GET /path" with an optional CRLF (HTTP/0.9).</summary>
    internal static string? ParseRequest(string request)
    {
        string line = request.Split('\n')[0].TrimEnd('\r');
        return line.StartsWith("GET /", StringComparison.Ordinal) ? Uri.UnescapeDataString(line[4..].Trim()) : null;
    }

    /// <summary>The file a path names under <paramref name="root"/>, or null when it would leave the root.</summary>
    internal static string? Resolve(DirectoryInfo root, string path)
    {
        string full = Path.GetFullPath(Path.Combine(root.FullName, path.TrimStart('/')));
        string rootPath = Path.GetFullPath(root.FullName).TrimEnd(Path.DirectorySeparatorChar) + Path.DirectorySeparatorChar;
        return full.StartsWith(rootPath, StringComparison.Ordinal) ? full : null;
    }
}
