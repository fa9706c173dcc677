using System.Net;
using System.Net.Security;
using System.Reflection;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Mallard.Quic.Tests.TestSupport;
using Mallard.TestSupport;

namespace Mallard.Quic.Tests;

/// <summary>The public API over real UDP sockets on loopback.</summary>
public class QuicConnectionTests
{
    [Fact]
    public async Task StreamsCarryDataBothWaysOverLoopback()
    {
        await using QuicListener listener = await Listen();
        Task server = Task.Run(async () =>
        {
            await using QuicConnection connection = await listener.AcceptConnectionAsync();
            await using QuicStream stream = await connection.AcceptInboundStreamAsync();
            byte[] request = await ReadAll(stream);
            await stream.WriteAsync(SHA256.HashData(request), completeWrites: true);
            await Task.Delay(200);
        });

        await using QuicConnection client = await Connect(listener);
        Assert.Equal("hq-interop", client.NegotiatedApplicationProtocol);
        await using QuicStream request = await client.OpenOutboundStreamAsync(QuicStreamType.Bidirectional);
        byte[] payload = RandomNumberGenerator.GetBytes(5_000_000);
        await request.WriteAsync(payload, completeWrites: true);
        byte[] digest = await ReadAll(request);
        Assert.Equal(SHA256.HashData(payload), digest);
        await server.WaitAsync(TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task ChaCha20IsNegotiatedWhenItIsTheOnlySuiteOffered()
    {
        await using QuicListener listener = await Listen();
        Task<QuicConnection> accepted = listener.AcceptConnectionAsync().AsTask();
        await using QuicConnection client = await Connect(listener, suites: [TlsCipherSuite.TLS_CHACHA20_POLY1305_SHA256]);
        await using QuicConnection server = await accepted.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(TlsCipherSuite.TLS_CHACHA20_POLY1305_SHA256, client.NegotiatedCipherSuite);
        Assert.Equal(TlsCipherSuite.TLS_CHACHA20_POLY1305_SHA256, server.NegotiatedCipherSuite);
    }

    [Fact]
    public async Task ApplicationCloseSurfacesAsQuicExceptionWithTheCode()
    {
        await using QuicListener listener = await Listen();
        Task<QuicConnection> accepted = listener.AcceptConnectionAsync().AsTask();
        await using QuicConnection client = await Connect(listener);
        await using QuicConnection server = await accepted.WaitAsync(TimeSpan.FromSeconds(10));
        Task<QuicStream> accept = server.AcceptInboundStreamAsync().AsTask();
        await client.CloseAsync(77);
        var error = await Assert.ThrowsAsync<QuicException>(async () => await accept.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(QuicError.ConnectionAborted, error.QuicError);
        Assert.Equal(77, error.ApplicationErrorCode);
    }

    [Fact]
    public async Task AClientConnectingByAddressRefusesACertificateIssuedForAName()
    {
        // A CA-issued certificate for evil.example may not serve a client that dialled 127.0.0.1.
        using var ca = new TestCertificateAuthority();
        await using QuicListener listener = await Listen(certificate: ca.Issue(dnsNames: ["evil.example"]));
        var error = await Assert.ThrowsAsync<QuicException>(async () => await ConnectValidating(listener, ca));
        Assert.Equal(0x100 + 42, error.TransportErrorCode); // bad_certificate
    }

    [Fact]
    public async Task AClientConnectingByAddressAcceptsACertificateWithThatIpSan()
    {
        using var ca = new TestCertificateAuthority();
        await using QuicListener listener = await Listen(certificate: ca.Issue(addresses: [IPAddress.Loopback]));
        Task<QuicConnection> accepted = listener.AcceptConnectionAsync().AsTask();
        await using QuicConnection client = await ConnectValidating(listener, ca);
        await using QuicConnection server = await accepted.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal("hq-interop", client.NegotiatedApplicationProtocol);
    }

    [Fact]
    public async Task ConnectAsyncThrowsWhenTheServersTransportParametersAreInvalid()
    {
        // A server that advertises max_udp_payload_size 1000 (below the 1200 minimum, RFC 9000 section 18.2).
        await using QuicListener listener = await Listen();
        var host = (Mallard.Quic.Hosting.EndpointHost)typeof(QuicListener).GetField("_host", BindingFlags.NonPublic | BindingFlags.Instance)!.GetValue(listener)!;
        var options = (Mallard.Quic.Connections.ConnectionOptions)typeof(Mallard.Quic.Connections.Endpoint).GetField("_serverOptions", BindingFlags.NonPublic | BindingFlags.Instance)!.GetValue(host.Endpoint)!;
        options.LocalParameters.MaxUdpPayloadSize = 1000;

        var error = await Assert.ThrowsAsync<QuicException>(async () => await Connect(listener));
        Assert.Equal(QuicError.TransportError, error.QuicError);
        Assert.Equal((long)Mallard.Quic.Transport.TransportErrorCode.TransportParameterError, error.TransportErrorCode);
    }

    [Fact]
    public async Task AlpnMismatchIsCryptoError0x178()
    {
        await using QuicListener listener = await Listen();
        var error = await Assert.ThrowsAsync<QuicException>(async () => await Connect(listener, alpn: "h3"));
        Assert.Equal(0x178, error.TransportErrorCode);
    }

    [Fact]
    public async Task RetryRequiredByTheServerIsFollowedByTheClient()
    {
        await using QuicListener listener = await Listen(retry: true);
        Task<QuicConnection> accepted = listener.AcceptConnectionAsync().AsTask();
        await using QuicConnection client = await Connect(listener);
        await using QuicConnection server = await accepted.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(client.LocalEndPoint.Port, server.RemoteEndPoint.Port);
    }

    [Fact]
    public async Task ATokenFromNewTokenLetsTheNextConnectionSkipRetry()
    {
        await using QuicListener listener = await Listen(retry: true);
        byte[]? token;
        await using (QuicConnection first = await Connect(listener))
        {
            long deadline = Environment.TickCount64 + 10_000;
            while ((token = first.AddressValidationToken) is null && Environment.TickCount64 < deadline)
            {
                await Task.Delay(10);
            }
        }

        Assert.NotNull(token);
        Assert.Equal(1, listener.RetriesSent);
        await using QuicConnection second = await Connect(listener, token: token);
        Assert.Equal(1, listener.RetriesSent);

        // A token that was not issued by this server is ignored, and Retry happens as before.
        byte[] forged = (byte[])token.Clone();
        forged[^1] ^= 1;
        await using QuicConnection third = await Connect(listener, token: forged);
        Assert.Equal(2, listener.RetriesSent);
    }

    [Fact]
    public async Task DatagramsEchoThroughThePublicApiWithDeliveryReports()
    {
        await using DatagramPair pair = await DatagramPair.ConnectAsync();
        (QuicConnection client, QuicConnection server) = (pair.Client, pair.Server);
        Task echo = Task.Run(async () =>
        {
            await foreach (byte[] datagram in server.ReadDatagramsAsync())
            {
                server.SendDatagram(datagram);
            }
        });

        var delivered = new TaskCompletionSource<QuicDatagramDelivery>(TaskCreationOptions.RunContinuationsAsynchronously);
        Assert.InRange(client.MaxDatagramSize, 1_000, 1_452); // one packet of the path: 1200 octets until path MTU discovery raised it
        client.SendDatagram("quack"u8.ToArray(), delivered.SetResult);
        byte[] answer = await client.ReadDatagramAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal("quack"u8.ToArray(), answer);
        Assert.Equal(QuicDatagramDelivery.Acknowledged, await delivered.Task.WaitAsync(TimeSpan.FromSeconds(10)));

        var tooLarge = Assert.Throws<QuicException>(() => client.SendDatagram(new byte[client.MaxDatagramSize + 1]));
        Assert.Equal(QuicError.DatagramTooLarge, tooLarge.QuicError);
        Assert.Equal(1, client.DatagramStatistics.Received);

        // The server's enumeration ends when the connection closes.
        await client.CloseAsync(0);
        await echo.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task ADatagramIsReadIntoTheCallersBufferAndOneTooLongForItStaysQueued()
    {
        await using DatagramPair pair = await DatagramPair.ConnectAsync();
        (QuicConnection client, QuicConnection server) = (pair.Client, pair.Server);

        client.SendDatagram("quack"u8.ToArray());
        client.SendDatagram(new byte[] { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 });
        var buffer = new byte[1_500];
        int length = await server.ReadDatagramAsync(buffer).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal("quack", System.Text.Encoding.ASCII.GetString(buffer, 0, length));

        // Waiting in a buffer that is too small for the next one: refused by name, and nothing is lost.
        for (int waited = 0; server.DatagramStatistics.Received < 2 && waited < 1_000; waited++)
        {
            await Task.Delay(10);
        }

        var refused = await Assert.ThrowsAsync<ArgumentException>(async () => await server.ReadDatagramAsync(new byte[4]));
        Assert.Equal("buffer", refused.ParamName);
        Assert.Contains("10 octets", refused.Message, StringComparison.Ordinal);
        Assert.Equal(10, await server.ReadDatagramAsync(buffer).AsTask().WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(10, buffer[9]);

        // Once the connection has closed and nothing is left, the reader learns it.
        await client.CloseAsync(0);
        await Assert.ThrowsAsync<QuicException>(async () => await server.ReadDatagramAsync(buffer).AsTask().WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task ACommandStreamAndDatagramTelemetryShareOneConnection()
    {
        await using DatagramPair pair = await DatagramPair.ConnectAsync();
        (QuicConnection client, QuicConnection server) = (pair.Client, pair.Server);

        // Telemetry: the client sends full-size datagrams as fast as the queue takes them.
        using var stop = new CancellationTokenSource();
        Task telemetry = Task.Run(async () =>
        {
            byte[] sample = new byte[client.MaxDatagramSize];
            while (!stop.IsCancellationRequested)
            {
                QuicDatagramSendStatus status = client.TrySendDatagram(sample);
                if (status == QuicDatagramSendStatus.QueueFull)
                {
                    await Task.Delay(1);
                }
                else if (status != QuicDatagramSendStatus.Queued)
                {
                    return; // the assertions below report it
                }
            }
        });
        int telemetryRead = 0;
        Task reader = Task.Run(async () =>
        {
            await foreach (byte[] _ in server.ReadDatagramsAsync())
            {
                Interlocked.Increment(ref telemetryRead);
            }
        });

        // The flow is running before the first command (a loaded machine may start the task late).
        long deadline = Environment.TickCount64 + 10_000;
        while (Volatile.Read(ref telemetryRead) < 20 && Environment.TickCount64 < deadline)
        {
            await Task.Delay(5);
        }

        int beforeCommands = Volatile.Read(ref telemetryRead);
        Assert.True(beforeCommands >= 20, $"the telemetry flow did not start ({beforeCommands} datagrams)");

        // Commands: 300 numbered lines on one stream, each written on its own, while telemetry flows.
        await using QuicStream commands = await client.OpenOutboundStreamAsync(QuicStreamType.Bidirectional);
        Task<byte[]> serverSide = Task.Run(async () =>
        {
            await using QuicStream stream = await server.AcceptInboundStreamAsync();
            return await ReadAll(stream);
        });
        for (int i = 0; i < 300; i++)
        {
            await commands.WriteAsync(System.Text.Encoding.ASCII.GetBytes($"command {i}\n"));
        }

        commands.CompleteWrites();
        string[] lines = System.Text.Encoding.ASCII.GetString(await serverSide.WaitAsync(TimeSpan.FromSeconds(30))).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        await stop.CancelAsync();
        await telemetry;

        Assert.Equal(Enumerable.Range(0, 300).Select(i => $"command {i}"), lines);
        await client.CloseAsync(0);
        // The server's enumeration ends with the connection. How many datagrams went out during the
        // commands depends on this machine's scheduling; that neither kind starves the other is
        // checked in virtual time (DatagramTests).
        await reader.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task AClientMovesToANewSocketInTheMiddleOfADownload()
    {
        await using QuicListener listener = await Listen();
        Task<QuicConnection> accepted = listener.AcceptConnectionAsync().AsTask();
        await using QuicConnection client = await Connect(listener);
        await using QuicConnection server = await accepted.WaitAsync(TimeSpan.FromSeconds(10));
        IPEndPoint before = client.LocalEndPoint;

        await QuicDownloads.DownloadWithAMoveHalfwayAsync(server, client, async () => await client.MigrateAsync());
        Assert.NotEqual(before.Port, client.LocalEndPoint.Port);
        Assert.Equal(client.LocalEndPoint.Port, server.RemoteEndPoint.Port);
        await Assert.ThrowsAsync<InvalidOperationException>(async () => await server.MigrateAsync());
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(2 * 24 * 3600)]
    public async Task AKeepAliveIntervalOutOfRangeIsRefusedByName(int seconds)
    {
        var error = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await QuicConnection.ConnectAsync(new QuicClientConnectionOptions
        {
            RemoteEndPoint = new IPEndPoint(IPAddress.Loopback, 9),
            ApplicationProtocols = ["hq-interop"],
            KeepAliveInterval = TimeSpan.FromSeconds(seconds),
        }));
        Assert.Equal("KeepAliveInterval", error.ParamName);
    }

    public static TheoryData<string, Action<QuicClientConnectionOptions>> OutOfRangeConnectionOptions => new()
    {
        { "DatagramMaxAge", o => o.DatagramMaxAge = TimeSpan.FromMilliseconds(-1) },
        { "DatagramPriority", o => o.DatagramPriority = (QuicDatagramPriority)7 },
        { "CongestionControl", o => o.CongestionControl = (QuicCongestionControl)7 },
        { "InitialStreamReceiveWindow", o => o.InitialStreamReceiveWindow = 16 * 1024 - 1 },
        { "InitialStreamReceiveWindow", o => o.InitialStreamReceiveWindow = 16 * 1024 * 1024 + 1 },
    };

    [Theory]
    [MemberData(nameof(OutOfRangeConnectionOptions))]
    public async Task AnOutOfRangeConnectionOptionIsRefusedByName(string name, Action<QuicClientConnectionOptions> spoil)
    {
        var options = new QuicClientConnectionOptions { RemoteEndPoint = new IPEndPoint(IPAddress.Loopback, 9), ApplicationProtocols = ["hq-interop"] };
        spoil(options);
        var error = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await QuicConnection.ConnectAsync(options));
        Assert.Equal(name, error.ParamName);
    }

    [Fact]
    public async Task DatagramsWithAMaximumAgeAndNewRenoEchoThroughThePublicApi()
    {
        await using QuicListener listener = await QuicListener.ListenAsync(new QuicListenerOptions
        {
            ListenEndPoint = new IPEndPoint(IPAddress.Loopback, 0),
            ApplicationProtocols = ["hq-interop"],
            ConnectionOptions = new QuicConnectionOptions { EnableDatagrams = true, CongestionControl = QuicCongestionControl.NewReno, DatagramPriority = QuicDatagramPriority.Fair },
        });
        await using QuicConnection client = await QuicConnection.ConnectAsync(new QuicClientConnectionOptions
        {
            RemoteEndPoint = listener.LocalEndPoint,
            ApplicationProtocols = ["hq-interop"],
            SkipCertificateValidation = true,
            EnableDatagrams = true,
            DatagramMaxAge = TimeSpan.FromSeconds(5),
        });
        await using QuicConnection server = await listener.AcceptConnectionAsync();

        Assert.Throws<ArgumentOutOfRangeException>(() => client.TrySendDatagram(new byte[1], TimeSpan.FromTicks(-1)));
        var delivered = new TaskCompletionSource<QuicDatagramDelivery>(TaskCreationOptions.RunContinuationsAsynchronously);
        Assert.Equal(QuicDatagramSendStatus.Queued, client.TrySendDatagram("quack"u8.ToArray(), TimeSpan.FromSeconds(1), delivered.SetResult));
        Assert.Equal("quack", System.Text.Encoding.ASCII.GetString(await server.ReadDatagramAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10))));
        // It left well within its age. (Its packet may still be declared lost if the acknowledgement
        // is late on a busy machine, RFC 9221 section 5.2; what it must not be is expired.)
        Assert.NotEqual(QuicDatagramDelivery.Expired, await delivered.Task.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(0, client.DatagramStatistics.Expired);

        // After the connection closes, a reader learns it from ReadDatagramAsync, and a send is refused.
        await client.CloseAsync(0);
        await Assert.ThrowsAsync<QuicException>(async () => await server.ReadDatagramAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(QuicDatagramSendStatus.ConnectionClosed, client.TrySendDatagram(new byte[1]));
    }

    /// <summary>
    /// A reader learns that the FIN came with the data it just read (ReadsCompleted), and a
    /// writer can wait until the peer has acknowledged everything it wrote and the FIN.
    /// </summary>
    [Fact]
    public async Task AStreamTellsWhenReadsReachedTheFinAndWhenWritesAreAcknowledged()
    {
        await using QuicListener listener = await Listen();
        await using QuicConnection client = await Connect(listener);
        await using QuicConnection server = await listener.AcceptConnectionAsync();
        await using QuicStream request = await client.OpenOutboundStreamAsync(QuicStreamType.Bidirectional);
        await request.WriteAsync("GET /\r\n"u8.ToArray(), completeWrites: true);
        await using QuicStream served = await server.AcceptInboundStreamAsync();

        byte[] buffer = new byte[64];
        int read = await served.ReadAsync(buffer);
        Assert.Equal("GET /\r\n", System.Text.Encoding.ASCII.GetString(buffer, 0, read));
        Assert.True(served.ReadsCompleted); // the FIN travelled with the request: no read needed to learn it
        Assert.Equal(0, await served.ReadAsync(buffer));

        Assert.False(request.ReadsCompleted);
        Task<long> reading = Task.Run(async () =>
        {
            long total = 0;
            int n;
            byte[] chunk = new byte[4096];
            while ((n = await request.ReadAsync(chunk)) > 0)
            {
                total += n;
            }

            return total;
        });
        await served.WriteAsync(new byte[200_000], completeWrites: true); // more than the initial window: the reader must read for it to go
        await served.WaitForWritesClosedAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(200_000, await reading.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.True(request.ReadsCompleted);
    }

    /// <summary>A listener that stops accepting keeps the connections it has and refuses new ones (a graceful shutdown).</summary>
    [Fact]
    public async Task AfterStopAcceptingOldConnectionsWorkAndNewOnesAreRefused()
    {
        await using QuicListener listener = await Listen(datagrams: true);
        await using QuicConnection client = await Connect(listener, datagrams: true);
        await using QuicConnection server = await listener.AcceptConnectionAsync();

        listener.StopAccepting();

        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await listener.AcceptConnectionAsync());
        // The late client's handshake may complete before the server's CONNECTION_CLOSE arrives; either way it ends refused.
        var refused = await Assert.ThrowsAsync<QuicException>(async () =>
        {
            await using QuicConnection late = await Connect(listener);
            await late.AcceptInboundStreamAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        });
        Assert.Equal((long)Mallard.Quic.Transport.TransportErrorCode.ConnectionRefused, refused.TransportErrorCode);
        client.SendDatagram("still here"u8.ToArray());
        Assert.Equal("still here", System.Text.Encoding.ASCII.GetString(await server.ReadDatagramAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10))));
    }

    [Fact]
    public async Task SendingADatagramThePeerDoesNotAcceptFailsClearly()
    {
        await using QuicListener listener = await Listen(datagrams: false);
        await using QuicConnection client = await Connect(listener, datagrams: true);
        Assert.Equal(0, client.MaxDatagramSize);
        Assert.Equal(QuicDatagramSendStatus.NotNegotiated, client.TrySendDatagram(new byte[10]));
        var error = Assert.Throws<QuicException>(() => client.SendDatagram(new byte[10]));
        Assert.Equal(QuicError.DatagramsNotNegotiated, error.QuicError);
    }

    /// <summary>The server sends 4 MB on a stream; <paramref name="move"/> runs once half has arrived; the data must arrive intact.</summary>
    internal static async Task<byte[]> ReadAll(Stream stream)
    {
        using var memory = new MemoryStream();
        await stream.CopyToAsync(memory);
        return memory.ToArray();
    }

    private static ValueTask<QuicConnection> ConnectValidating(QuicListener listener, TestCertificateAuthority ca) => QuicConnection.ConnectAsync(new QuicClientConnectionOptions
    {
        RemoteEndPoint = listener.LocalEndPoint,
        ApplicationProtocols = ["hq-interop"],
        CertificateChainPolicy = ca.TrustOnlyThis(),
    });

    private static ValueTask<QuicListener> Listen(bool retry = false, bool datagrams = false, X509Certificate2? certificate = null) => QuicListener.ListenAsync(new QuicListenerOptions
    {
        ServerCertificate = certificate,
        ConnectionOptions = new QuicConnectionOptions { EnableDatagrams = datagrams },
        ListenEndPoint = new IPEndPoint(IPAddress.Loopback, 0),
        ApplicationProtocols = ["hq-interop"],
        RequireRetry = retry,
    });

    private static ValueTask<QuicConnection> Connect(QuicListener listener, string alpn = "hq-interop", TlsCipherSuite[]? suites = null, byte[]? token = null, bool datagrams = false) => QuicConnection.ConnectAsync(new QuicClientConnectionOptions
    {
        EnableDatagrams = datagrams,
        AddressValidationToken = token,
        RemoteEndPoint = listener.LocalEndPoint,
        ApplicationProtocols = [alpn],
        ServerName = "localhost",
        SkipCertificateValidation = true,
        CipherSuites = suites,
    });

    /// <summary>A listener and a client and server connection with datagrams enabled, disposed together.</summary>
    private sealed record DatagramPair(QuicListener Listener, QuicConnection Client, QuicConnection Server) : IAsyncDisposable
    {
        public static async Task<DatagramPair> ConnectAsync()
        {
            QuicListener listener = await Listen(datagrams: true);
            Task<QuicConnection> accepted = listener.AcceptConnectionAsync().AsTask();
            QuicConnection client = await Connect(listener, datagrams: true);
            return new DatagramPair(listener, client, await accepted.WaitAsync(TimeSpan.FromSeconds(10)));
        }

        public async ValueTask DisposeAsync()
        {
            await Server.DisposeAsync();
            await Client.DisposeAsync();
            await Listener.DisposeAsync();
        }
    }
}
