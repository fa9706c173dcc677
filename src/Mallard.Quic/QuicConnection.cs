using System.Collections.Concurrent;
using System.Threading.Channels;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using Mallard.Quic.Connections;
using Mallard.Quic.Hosting;
using Mallard.Quic.Transport;

namespace Mallard.Quic;

/// <summary>
/// A QUIC connection (RFC 9000), shaped like System.Net.Quic's: open and accept streams, close
/// with an application error code. Clients get one from <see cref="ConnectAsync"/>, servers from
/// <see cref="QuicListener.AcceptConnectionAsync"/>.
/// </summary>
public sealed class QuicConnection : IAsyncDisposable, IConnectionWaker
{
    private readonly EndpointHost _host;
    private readonly Connection _connection;
    private readonly bool _ownsHost;
    private readonly QuicConnectionOptions _options;
    private bool _readyAnnounced;
    private volatile bool _disposed;
    private ConcurrentDictionary<ulong, Action<QuicDatagramDelivery>>? _deliveryCallbacks;
    private readonly Action<QuicConnection>? _onReady;
    private readonly InlineDatagramWait? _inlineDatagramWait;

    /// <param name="host">The I/O host that drives the connection.</param>
    /// <param name="connection">The sans-IO connection.</param>
    /// <param name="options">The options it was made with.</param>
    /// <param name="ownsHost">A client owns its host and disposes it with the connection.</param>
    /// <param name="onReady">Server: called under the lock once the handshake completes (the listener's accept queue).</param>
    internal QuicConnection(EndpointHost host, Connection connection, QuicConnectionOptions options, bool ownsHost, Action<QuicConnection>? onReady = null)
    {
        _host = host;
        _connection = connection;
        _options = options;
        _ownsHost = ownsHost;
        _onReady = onReady;
        _inlineDatagramWait = options.UnsafeInlineDatagramReads ? new InlineDatagramWait(host.Gate) : null;
    }

    /// <summary>The peer's address; a server follows its client to a new one (RFC 9000 section 9).</summary>
    public IPEndPoint RemoteEndPoint
    {
        get
        {
            lock (Gate)
            {
                SocketAddress remote = _connection.Remote;
                IPEndPoint template = remote.Family == AddressFamily.InterNetworkV6 ? new IPEndPoint(IPAddress.IPv6Any, 0) : new IPEndPoint(IPAddress.Any, 0);
                return (IPEndPoint)template.Create(remote);
            }
        }
    }

    /// <summary>This side's address.</summary>
    public IPEndPoint LocalEndPoint => _host.LocalEndPoint;

    /// <summary>The ALPN protocol both sides agreed on.</summary>
    public string NegotiatedApplicationProtocol => _connection.ApplicationProtocol ?? "";

    /// <summary>Whether the handshake resumed an earlier session with a ticket (no certificate was exchanged).</summary>
    public bool IsResumed
    {
        get
        {
            lock (Gate)
            {
                return _connection.IsResumed;
            }
        }
    }

    /// <summary>
    /// Client: the newest session ticket the server issued on this connection, to resume a later
    /// connection with (<see cref="QuicClientConnectionOptions.SessionTicket"/>); null until one
    /// arrives, which servers do just after the handshake.
    /// </summary>
    public QuicSessionTicket? SessionTicket
    {
        get
        {
            lock (Gate)
            {
                return _connection.ReceivedTicket is { } ticket ? new QuicSessionTicket(ticket) : null;
            }
        }
    }

    /// <summary>The negotiated TLS 1.3 cipher suite.</summary>
    public TlsCipherSuite NegotiatedCipherSuite => (TlsCipherSuite)(ushort)(_connection.CipherSuite ?? 0);

    /// <summary>Key updates done on this connection so far (RFC 9001 section 6).</summary>
    public int KeyUpdates
    {
        get
        {
            lock (Gate)
            {
                return _connection.KeyUpdates;
            }
        }
    }

    /// <summary>
    /// The latest token the server sent in a NEW_TOKEN frame (clients only; null until one arrives).
    /// Give it to the next connection to this server as <see cref="QuicClientConnectionOptions.AddressValidationToken"/>.
    /// </summary>
    public byte[]? AddressValidationToken
    {
        get
        {
            lock (Gate)
            {
                return _connection.ReceivedNewToken;
            }
        }
    }

    // Operations waiting for the connection to change (stream reads, writes, opens, accepts).
    private readonly List<PendingWait> _waits = [];

    internal object Gate => _host.Gate;

    internal Connection Core => _connection;

    internal EndpointHost Host => _host;

    /// <summary>Connects to a server and completes the handshake.</summary>
    /// <exception cref="QuicException">The handshake failed: the exception carries the TLS alert (as CRYPTO_ERROR) or the transport error.</exception>
    public static async ValueTask<QuicConnection> ConnectAsync(QuicClientConnectionOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (options.ApplicationProtocols.Count == 0)
        {
            throw new ArgumentException("at least one ALPN protocol is required", nameof(options));
        }

        IPEndPoint remote;
        string? serverName = options.ServerName;
        switch (options.RemoteEndPoint)
        {
            case IPEndPoint ip:
                remote = ip;
                serverName ??= ip.Address.ToString(); // the certificate must name the address (RFC 9110 section 4.3.4)
                break;
            case DnsEndPoint dns:
                IPAddress[] addresses = await Dns.GetHostAddressesAsync(dns.Host, cancellationToken).ConfigureAwait(false);
                remote = new IPEndPoint(addresses[0], dns.Port);
                serverName ??= dns.Host;
                break;
            default:
                throw new ArgumentException("RemoteEndPoint must be an IPEndPoint or a DnsEndPoint", nameof(options));
        }

        IPEndPoint local = options.LocalEndPoint ?? new IPEndPoint(remote.AddressFamily == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any, 0);
        var endpoint = new Endpoint(null);
        var host = new EndpointHost(EndpointHost.Bind(local), endpoint, options.MaxReceiveDatagramSize);
        ConnectionOptions core = options.CoreOptions(isServer: false, options.ApplicationProtocols, options.CipherSuites) with
        {
            ServerName = serverName,
            SkipCertificateValidation = options.SkipCertificateValidation,
            ValidateCertificate = options.ValidateCertificate,
            CertificateChainPolicy = options.CertificateChainPolicy,
            KeyUpdateInterval = (ulong)options.KeyUpdateInterval,
            ResumeWith = options.SessionTicket?.Ticket,
            OfferEarlyData = options.EarlyData,
        };

        QuicConnection connection;
        lock (host.Gate)
        {
            Connection client = endpoint.Connect(core, remote.Serialize(), HostClock.Now, options.AddressValidationToken);
            connection = new QuicConnection(host, client, options, ownsHost: true);
            host.Register(client, connection);
            host.Start();
            host.AfterChangeLocked(client);
        }

        if (options.EarlyData && connection.Core.EarlyDataOffered)
        {
            // 0-RTT: handed out at once, so that what the application sends goes in the first flight.
            _ = connection.AbandonHandshakeAfterAsync(options.HandshakeTimeout, remote);
            return connection;
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.HandshakeTimeout);
        try
        {
            // Established, not just TLS complete: the transport parameters and the handshake's
            // connection IDs are checked after TLS finishes (RFC 9000 section 7.3), and a failure
            // there closes the connection, which WaitAsync reports with the transport error.
            await connection.WaitAsync(c => c.HandshakeComplete && c.State == ConnectionState.Established, timeout.Token).ConfigureAwait(false);
            return connection;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw new QuicException(QuicError.ConnectionTimeout, null, null, $"no handshake with {remote} within {options.HandshakeTimeout.TotalSeconds:0.#} s");
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// Waits until the handshake has completed. A client given a connection early for 0-RTT
    /// (<see cref="QuicClientConnectionOptions.EarlyData"/>) learns here whether the server took the
    /// early data (<see cref="EarlyDataAccepted"/>); a server handed a connection with early data
    /// waits here for the client's Finished, which proves the client is live — early data alone
    /// may be a replay — before doing anything that must not happen twice. A handshake that
    /// completed counts even if the peer has closed the connection since (a client that had its
    /// answer and left).
    /// </summary>
    /// <exception cref="QuicException">The connection ended before its handshake completed, or the handshake timed out.</exception>
    public ValueTask WaitForHandshakeAsync(CancellationToken cancellationToken = default) =>
        WaitAsync(static c => c.HandshakeSucceeded, cancellationToken);

    /// <summary>
    /// Whether 0-RTT early data was accepted on this connection (RFC 9001 section 4.6). A server
    /// knows it when the connection is handed out; a client once the handshake completes
    /// (<see cref="WaitForHandshakeAsync"/>). Refused early data was sent again after the handshake,
    /// except datagrams, which were reported lost.
    /// </summary>
    public bool EarlyDataAccepted
    {
        get
        {
            lock (Gate)
            {
                return _connection.EarlyDataAccepted;
            }
        }
    }

    /// <summary>A client handed out early: the handshake must still complete within the timeout, or the connection ends.</summary>
    private async Task AbandonHandshakeAfterAsync(TimeSpan timeout, IPEndPoint remote)
    {
        using var expiry = new CancellationTokenSource(timeout);
        try
        {
            await WaitForHandshakeAsync(expiry.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            lock (Gate)
            {
                _connection.AbandonHandshake(HostClock.Now, $"no handshake with {remote} within {timeout.TotalSeconds:0.#} s");
                _host.AfterChangeLocked(_connection);
            }
        }
        catch (QuicException)
        {
            // The connection failed on its own; its users see why.
        }
    }

    /// <summary>Opens a stream, waiting while the peer's MAX_STREAMS limit is reached.</summary>
    public async ValueTask<QuicStream> OpenOutboundStreamAsync(QuicStreamType type, CancellationToken cancellationToken = default)
    {
        bool bidirectional = type == QuicStreamType.Bidirectional;
        ulong id = 0;
        await WaitAsync(c => c.TryOpenStream(bidirectional, out id), cancellationToken).ConfigureAwait(false);
        lock (Gate)
        {
            return new QuicStream(this, _connection.GetStream(id)!, _options.DefaultStreamErrorCode);
        }
    }

    /// <summary>Waits for the next stream the peer opens.</summary>
    public async ValueTask<QuicStream> AcceptInboundStreamAsync(CancellationToken cancellationToken = default)
    {
        ulong id = 0;
        await WaitAsync(c => c.TryAcceptStream(out id), cancellationToken).ConfigureAwait(false);
        lock (Gate)
        {
            return new QuicStream(this, _connection.GetStream(id) ?? throw ClosedException(), _options.DefaultStreamErrorCode);
        }
    }

    /// <summary>
    /// The largest datagram payload <see cref="SendDatagram"/> accepts now: bounded by the peer's
    /// max_datagram_frame_size and by one packet on the path (RFC 9221 section 3); 0 when the peer
    /// does not accept datagrams.
    /// </summary>
    public int MaxDatagramSize
    {
        get
        {
            lock (Gate)
            {
                return _connection.MaxDatagramPayload;
            }
        }
    }

    /// <summary>The DATAGRAM counters of this connection.</summary>
    public QuicDatagramStatistics DatagramStatistics
    {
        get
        {
            lock (Gate)
            {
                DatagramCounters c = _connection.Datagrams;
                return new QuicDatagramStatistics(c.Sent, c.Received, c.DroppedOnSend, c.DroppedOnReceive, c.Acknowledged, c.Lost, c.Expired);
            }
        }
    }

    /// <summary>
    /// Queues one unreliable datagram (RFC 9221); the payload is copied. It is congestion controlled
    /// and never retransmitted. <paramref name="onDelivery"/>, when given, is called once on the
    /// thread pool with its fate.
    /// </summary>
    /// <returns>Whether it was queued, and if not, why.</returns>
    public QuicDatagramSendStatus TrySendDatagram(ReadOnlyMemory<byte> datagram, Action<QuicDatagramDelivery>? onDelivery = null) =>
        TrySendDatagram(datagram, TimeSpan.Zero, onDelivery);

    /// <summary>
    /// Queues one unreliable datagram like <see cref="TrySendDatagram(ReadOnlyMemory{byte}, Action{QuicDatagramDelivery}?)"/>,
    /// dropped unsent if it is still queued after <paramref name="maxAge"/> (zero: the connection's
    /// <see cref="QuicConnectionOptions.DatagramMaxAge"/>).
    /// </summary>
    public QuicDatagramSendStatus TrySendDatagram(ReadOnlyMemory<byte> datagram, TimeSpan maxAge, Action<QuicDatagramDelivery>? onDelivery = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxAge, TimeSpan.Zero);

        // No lock: the datagram queue is safe from any thread, so a real-time send never waits
        // behind stream work holding the host's lock.
        if (_disposed)
        {
            return QuicDatagramSendStatus.ConnectionClosed;
        }

        ulong id = 0;
        if (onDelivery is not null)
        {
            id = _connection.NewDatagramId();
            DeliveryCallbacks()[id] = onDelivery; // before queuing, so that no outcome can come first
        }

        DatagramQueueResult result = _connection.QueueDatagram(datagram.Span, id, HostClock.Now, maxAge.Ticks / TimeSpan.TicksPerMicrosecond);
        if (result != DatagramQueueResult.Queued)
        {
            if (id != 0)
            {
                _deliveryCallbacks!.TryRemove(id, out _);
            }

            return (QuicDatagramSendStatus)result;
        }

        _host.SendDatagramsSoon(_connection);
        return QuicDatagramSendStatus.Queued;
    }

    private ConcurrentDictionary<ulong, Action<QuicDatagramDelivery>> DeliveryCallbacks()
    {
        if (_deliveryCallbacks is { } callbacks)
        {
            return callbacks;
        }

        Interlocked.CompareExchange(ref _deliveryCallbacks, new ConcurrentDictionary<ulong, Action<QuicDatagramDelivery>>(), null);
        return _deliveryCallbacks;
    }

    /// <summary>Queues one unreliable datagram like <see cref="TrySendDatagram(ReadOnlyMemory{byte}, Action{QuicDatagramDelivery}?)"/>, throwing when it cannot be queued.</summary>
    /// <exception cref="QuicException">DATAGRAM frames not negotiated, too large, queue full, or the connection is closed.</exception>
    public void SendDatagram(ReadOnlyMemory<byte> datagram, Action<QuicDatagramDelivery>? onDelivery = null)
    {
        QuicDatagramSendStatus status = TrySendDatagram(datagram, onDelivery);
        switch (status)
        {
            case QuicDatagramSendStatus.Queued:
                return;
            case QuicDatagramSendStatus.NotNegotiated:
                throw new QuicException(QuicError.DatagramsNotNegotiated, null, null, "the peer does not accept DATAGRAM frames (no max_datagram_frame_size)");
            case QuicDatagramSendStatus.TooLarge:
                throw new QuicException(QuicError.DatagramTooLarge, null, null, $"a datagram of {datagram.Length} octets is larger than the {MaxDatagramSize} this connection can send");
            case QuicDatagramSendStatus.QueueFull:
                throw new QuicException(QuicError.DatagramQueueFull, null, null, $"the datagram send queue is full ({_options.DatagramSendQueueCapacity})");
            default:
                lock (Gate)
                {
                    throw ClosedException();
                }
        }
    }

    /// <summary>Waits for the next datagram from the peer.</summary>
    /// <exception cref="QuicException">The connection closed and no datagram is left to read.</exception>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))] // a state machine per call would be garbage on the data path
    public async ValueTask<byte[]> ReadDatagramAsync(CancellationToken cancellationToken = default)
    {
        // No lock: received datagrams wait in a queue the application reads directly.
        ChannelReader<ReceivedDatagram> reader = _connection.DatagramReader;
        while (true)
        {
            if (reader.TryRead(out ReceivedDatagram received))
            {
                return received.TakeArray();
            }

            await WaitForDatagramAsync(reader, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Waits for the next datagram from the peer and copies it into <paramref name="buffer"/>,
    /// allocating nothing: the form for a receive loop that reuses one buffer. A buffer of
    /// max(1,500, <see cref="QuicConnectionOptions.MaxUdpPayloadSize"/>) octets holds any datagram
    /// this connection accepts.
    /// </summary>
    /// <returns>The datagram's length.</returns>
    /// <exception cref="ArgumentException">The next datagram is longer than <paramref name="buffer"/>; it stays queued (unless another reader raced for it, which then loses it).</exception>
    /// <exception cref="QuicException">The connection closed and no datagram is left to read.</exception>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<int> ReadDatagramAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ChannelReader<ReceivedDatagram> reader = _connection.DatagramReader;
        while (true)
        {
            if (reader.TryPeek(out ReceivedDatagram next) && next.Length > buffer.Length)
            {
                throw new ArgumentException($"the next datagram has {next.Length} octets; the buffer holds {buffer.Length}", nameof(buffer));
            }

            if (reader.TryRead(out ReceivedDatagram received))
            {
                try
                {
                    if (received.Length > buffer.Length)
                    {
                        throw new ArgumentException($"the next datagram has {received.Length} octets; the buffer holds {buffer.Length}", nameof(buffer));
                    }

                    received.Payload.CopyTo(buffer.Span);
                    return received.Length;
                }
                finally
                {
                    received.Release();
                }
            }

            await WaitForDatagramAsync(reader, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Waits until a datagram can be read; throws when the connection has closed and none is left.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask WaitForDatagramAsync(ChannelReader<ReceivedDatagram> reader, CancellationToken cancellationToken)
    {
        if (_inlineDatagramWait is not null && TryWaitInline(reader, cancellationToken) is ValueTask inline)
        {
            await inline.ConfigureAwait(false);
            return;
        }

        if (!await reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
        {
            lock (Gate)
            {
                throw ClosedException();
            }
        }
    }

    /// <summary>
    /// With <see cref="QuicConnectionOptions.UnsafeInlineDatagramReads"/>: a wait the host's receive
    /// loop completes on its own thread (<see cref="InlineDatagramWait"/>); null when the channel's
    /// own wait serves instead — a second concurrent reader, or a connection that is ending (its
    /// channel then completes and says so).
    /// </summary>
    private ValueTask? TryWaitInline(ChannelReader<ReceivedDatagram> reader, CancellationToken cancellationToken)
    {
        InlineDatagramWait wait = _inlineDatagramWait!;
        lock (Gate)
        {
            if (wait.InUse || IsOverLocked)
            {
                return null;
            }

            if (reader.TryPeek(out _))
            {
                return default; // arrived meanwhile: read it
            }

            if (cancellationToken.IsCancellationRequested)
            {
                return ValueTask.FromCanceled(cancellationToken);
            }

            return wait.Arm(cancellationToken); // the channel is written under this lock, so no arrival slips past
        }
    }

    /// <summary>The peer's datagrams as they arrive; the sequence ends when the connection closes.</summary>
    public async IAsyncEnumerable<byte[]> ReadDatagramsAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        while (true)
        {
            byte[] payload;
            try
            {
                payload = await ReadDatagramAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (QuicException)
            {
                yield break;
            }

            yield return payload;
        }
    }

    /// <summary>
    /// Client only: moves the connection to a new local socket — another port, or another
    /// interface's address — as a device does when it changes networks (RFC 9000 section 9.2).
    /// The packets on the new path use a fresh connection ID and the old one is retired, and a
    /// PATH_CHALLENGE checks the new path. The old socket is closed.
    /// </summary>
    /// <param name="localEndPoint">The new local address; any address of the same family and a new port when null.</param>
    /// <param name="cancellationToken">Cancels before the move begins.</param>
    /// <exception cref="InvalidOperationException">A server connection, a handshake not yet confirmed, a server that disabled migration, or no spare connection ID.</exception>
    public async ValueTask MigrateAsync(IPEndPoint? localEndPoint = null, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (!_ownsHost)
        {
            throw new InvalidOperationException("only a client connection can move to a new local address");
        }

        IPEndPoint current = _host.LocalEndPoint;
        IPEndPoint target = localEndPoint ?? new IPEndPoint(current.AddressFamily == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any, 0);
        lock (Gate)
        {
            // Checked before the socket changes, so a refusal leaves everything as it was.
            if (_connection.MigrationRefusal() is string refusal)
            {
                throw new InvalidOperationException($"the connection cannot move: {refusal}");
            }
        }

        await _host.RebindAsync(target, () =>
        {
            if (_connection.MigrationRefusal() is null)
            {
                _connection.MigrateToNewPath(HostClock.Now);
            }
        }).ConfigureAwait(false);
    }

    /// <summary>Closes the connection with an application error code (CONNECTION_CLOSE, RFC 9000 section 19.19).</summary>
    /// <remarks>The CONNECTION_CLOSE is handed to the socket before this returns.</remarks>
    public ValueTask CloseAsync(long errorCode, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (Gate)
        {
            _connection.Close(HostClock.Now, (ulong)errorCode, "", application: true);
            _host.AfterChangeLocked(_connection);
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>Closes with <see cref="QuicConnectionOptions.DefaultCloseErrorCode"/> if still open, and releases the socket of a client.</summary>
    public async ValueTask DisposeAsync()
    {
        lock (Gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            _connection.Close(HostClock.Now, (ulong)_options.DefaultCloseErrorCode, "", application: true);
            _host.AfterChangeLocked(_connection);
        }

        if (_ownsHost)
        {
            await _host.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Runs <paramref name="attempt"/> under the lock; if it cannot succeed yet, it is tried again
    /// after each host cycle of this connection until it does (see <see cref="PendingWait"/>).
    /// Throws what the attempt throws, and <see cref="QuicException"/> once the connection is closed.
    /// </summary>
    internal ValueTask WaitAsync(Func<Connection, bool> attempt, CancellationToken cancellationToken)
    {
        lock (Gate)
        {
            try
            {
                if (attempt(_connection))
                {
                    _host.ScheduleSend(_connection);
                    return default;
                }
            }
            catch (Exception failure) when (failure is not OutOfMemoryException)
            {
                return ValueTask.FromException(failure);
            }

            if (IsOverLocked)
            {
                return ValueTask.FromException(ClosedException());
            }

            if (cancellationToken.IsCancellationRequested)
            {
                return ValueTask.FromCanceled(cancellationToken);
            }

            var wait = new PendingWait(this, attempt);
            _waits.Add(wait);
            if (cancellationToken.CanBeCanceled)
            {
                wait.Cancellation = cancellationToken.UnsafeRegister(static (state, token) => ((PendingWait)state!).Cancel(token), wait);
            }

            return new ValueTask(wait.Task);
        }
    }

    /// <summary>Removes a wait that has not completed; false when it is gone already. Call under the lock.</summary>
    internal bool ForgetWaitLocked(PendingWait wait) => _waits.Remove(wait);

    private bool IsOverLocked => _connection.State is ConnectionState.Closing or ConnectionState.Draining or ConnectionState.Closed || _disposed;

    /// <summary>Tries every waiting operation again; completes those that are done, and all with the reason once the connection is over.</summary>
    private void RetryWaitsLocked()
    {
        if (_waits.Count == 0)
        {
            return;
        }

        bool over = IsOverLocked;
        bool progressed = false;
        int kept = 0;
        for (int i = 0; i < _waits.Count; i++)
        {
            PendingWait wait = _waits[i];
            bool done;
            Exception? failure = null;
            try
            {
                done = wait.Attempt(_connection);
            }
            catch (Exception thrown) when (thrown is not OutOfMemoryException)
            {
                done = true;
                failure = thrown;
            }

            if (!done && over)
            {
                done = true;
                failure = ClosedException();
            }

            if (!done)
            {
                _waits[kept++] = wait;
                continue;
            }

            wait.Cancellation.Unregister(); // not Dispose: that would wait for a running callback, which waits for this lock
            progressed |= failure is null;
            if (failure is null)
            {
                wait.TrySetResult();
            }
            else
            {
                wait.TrySetException(failure);
            }
        }

        _waits.RemoveRange(kept, _waits.Count - kept);
        if (progressed)
        {
            _host.ScheduleSend(_connection); // what the attempts did (window updates, data) goes out
        }
    }

    /// <summary>After every host cycle: wake waiters, and hand a newly established server connection to the listener.</summary>
    void IConnectionWaker.OnHostCycleLocked()
    {
        // Accepted early data hands the connection out at once, so that its requests are answered in 0.5-RTT.
        if (!_readyAnnounced && _connection.IsServer
            && ((_connection.HandshakeComplete && _connection.State == ConnectionState.Established) || (_connection.EarlyDataAccepted && _connection.State == ConnectionState.Handshaking)))
        {
            _readyAnnounced = true;
            _onReady?.Invoke(this);
        }

        if (_deliveryCallbacks is { IsEmpty: false })
        {
            ReportDatagramOutcomesLocked();
        }

        if (_inlineDatagramWait is { Armed: true } inline
            && (_connection.DatagramReader.TryPeek(out _) || IsOverLocked) && inline.Disarm())
        {
            _host.Wake(inline);
        }

        RetryWaitsLocked();
    }

    /// <summary>Hands tracked datagrams' outcomes to their callbacks, off the lock; the rest count as lost once the connection ends.</summary>
    private void ReportDatagramOutcomesLocked()
    {
        List<(Action<QuicDatagramDelivery> Callback, QuicDatagramDelivery Delivery)>? due = null;
        while (_connection.TryTakeDatagramOutcome(out ulong id, out QuicDatagramDelivery delivery))
        {
            if (_deliveryCallbacks!.TryRemove(id, out Action<QuicDatagramDelivery>? callback))
            {
                (due ??= []).Add((callback, delivery));
            }
        }

        if (_connection.State is ConnectionState.Closing or ConnectionState.Draining or ConnectionState.Closed)
        {
            foreach (Action<QuicDatagramDelivery> callback in _deliveryCallbacks!.Values)
            {
                (due ??= []).Add((callback, QuicDatagramDelivery.Lost));
            }

            _deliveryCallbacks.Clear();
        }

        if (due is not null)
        {
            ThreadPool.UnsafeQueueUserWorkItem(
                static batch =>
                {
                    foreach ((Action<QuicDatagramDelivery> callback, QuicDatagramDelivery delivery) in batch)
                    {
                        callback(delivery);
                    }
                },
                due,
                preferLocal: false);
        }
    }

    /// <summary>Has the host send what a stream operation queued (on its send pump). Call under the lock.</summary>
    internal void FlushLocked() => _host.ScheduleSend(_connection);

    /// <summary>The exception that explains why the connection is no longer usable.</summary>
    internal QuicException ClosedException()
    {
        ConnectionError? error = _connection.Error;
        if (error is null)
        {
            return new QuicException(QuicError.OperationAborted, null, null, "the connection was closed locally");
        }

        if (error.IsApplication)
        {
            return new QuicException(error.ByPeer ? QuicError.ConnectionAborted : QuicError.OperationAborted, (long)error.Code, null, error.ToString());
        }

        QuicError kind = error.Cause switch
        {
            ConnectionEndCause.IdleTimeout => QuicError.ConnectionIdle,
            ConnectionEndCause.VersionNegotiation => QuicError.VersionNegotiationError,
            ConnectionEndCause.HandshakeTimeout => QuicError.ConnectionTimeout,
            ConnectionEndCause.StatelessReset => QuicError.ConnectionAborted,
            _ when error.Code == (ulong)TransportErrorCode.ConnectionRefused => QuicError.ConnectionRefused,
            _ when error.Code == 0 && error.ByPeer => QuicError.ConnectionAborted,
            _ => QuicError.TransportError,
        };
        return new QuicException(kind, null, (long)error.Code, error.ToString());
    }
}
