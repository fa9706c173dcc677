using System.Net;
using System.Security.Cryptography;
using Mallard.Quic.Crypto;
using Mallard.Quic.Packets;
using Mallard.QuicLb.Invariants;

using Mallard.Quic.Tls;

namespace Mallard.Quic.Connections;

/// <summary>
/// The sans-IO side of one UDP socket: routes datagrams to connections by destination connection
/// ID, accepts new connections from Initials (server), answers unknown versions with Version
/// Negotiation (RFC 9000 section 6), sends Retry when address validation is required
/// (section 8.1.2), and answers packets for unknown connections with a stateless reset
/// (section 10.3). Never throws on network input.
/// </summary>
internal sealed class Endpoint : IDisposable
{
    private static readonly uint[] SupportedVersions = [QuicVersion.V1];

    private readonly Dictionary<byte[], Connection> _byConnectionId = new(ContentComparer.Instance);
    private readonly Dictionary<byte[], Connection>.AlternateLookup<ReadOnlySpan<byte>> _lookup;
    private readonly List<Connection> _connections = [];
    private readonly Queue<(SocketAddress Destination, byte[] Datagram)> _output = new();
    private readonly byte[] _staticKey;
    private readonly AddressValidationTokens _tokens;
    private readonly ConnectionOptions? _serverOptions;
    private readonly ConnectionSchedule _schedule = new();

    /// <summary>Answers queued without a connection (Version Negotiation, Retry, stateless reset) at most.</summary>
    private const int MaxQueuedAnswers = 256;

    /// <summary>Version Negotiation and stateless resets: at most 1,000 a second, 100 at once (RFC 9000 section 10.3.3 allows limiting resets).</summary>
    private readonly TokenBucket _statelessAnswers = new(perSecond: 1_000, burst: 100);

    // Connections accepted without a validated address, until their handshake completes (pruned lazily).
    private readonly HashSet<Connection> _unvalidatedHandshakes = [];

    /// <summary>Creates an endpoint; with <paramref name="serverOptions"/> it accepts connections.</summary>
    /// <param name="serverOptions">The options of accepted connections; null for a client endpoint.</param>
    /// <param name="connectionIdLength">A client endpoint's connection ID length.</param>
    /// <param name="staticKey">
    /// 64 secret octets for stateless reset tokens and address validation tokens; servers that share
    /// it (or a restarted server given the same) can reset each other's connections. Random when null.
    /// </param>
    public Endpoint(ConnectionOptions? serverOptions, int connectionIdLength = 8, byte[]? staticKey = null)
    {
        if (staticKey is { Length: not 64 })
        {
            throw new ArgumentException("the static key must be 64 octets", nameof(staticKey));
        }

        _staticKey = staticKey ?? RandomNumberGenerator.GetBytes(64);
        _serverOptions = serverOptions is null ? null : serverOptions with { ResetTokenFor = ResetTokenFor };
        ConnectionIdLength = serverOptions?.ConnectionIds.ConnectionIdLength ?? connectionIdLength;
        _lookup = _byConnectionId.GetAlternateLookup<ReadOnlySpan<byte>>();
        _tokens = new AddressValidationTokens(_staticKey[32..]);
        if (_serverOptions is { SessionTicketLifetimeSeconds: > 0 })
        {
            _sessionTickets = new SessionTicketSealer(_staticKey);
            _serverOptions = _serverOptions with { SessionTickets = _sessionTickets, NowMilliseconds = () => WallClock.GetUtcNow().ToUnixTimeMilliseconds() };
        }
    }

    private readonly SessionTicketSealer? _sessionTickets;

    /// <summary>The length of this endpoint's connection IDs (short headers do not carry it).</summary>
    public int ConnectionIdLength { get; }

    /// <summary>Send Retry to every client without a valid token (RFC 9000 section 8.1.2).</summary>
    public bool RequireRetry { get; set; }

    /// <summary>
    /// At most this many handshakes with clients whose address is not validated may be under way;
    /// beyond it a new client must first answer a Retry (RFC 9000 section 8.1.2 allows Retry
    /// under load), so a flood of Initials — spoofed or not — holds no more handshake state than
    /// this, while real clients still get in one round trip later.
    /// </summary>
    public int MaxUnvalidatedHandshakes { get; set; } = 128;

    /// <summary>At most this many connections; further Initials are refused with CONNECTION_REFUSED by silence.</summary>
    public int MaxConnections { get; set; } = 10_000;

    /// <summary>Called for every connection a client opens (server).</summary>
    public Action<Connection>? ConnectionAccepted { get; set; }

    /// <summary>Datagrams dropped unprocessed: they matched no connection and were not answered, or the host could not read them whole.</summary>
    public long DroppedDatagrams { get; private set; }

    /// <summary>Counts datagrams the host dropped before they reached the endpoint (larger than its receive buffers).</summary>
    public void CountDropped(int datagrams) => DroppedDatagrams += datagrams;

    public long VersionNegotiationsSent { get; private set; }

    /// <summary>Version Negotiation, Retry or stateless reset answers not sent because of the rate limit or a full queue.</summary>
    public long StatelessAnswersSuppressed { get; private set; }

    public long RetriesSent { get; private set; }

    public long StatelessResetsSent { get; private set; }

    /// <summary>Short-header datagrams for another server's connection ID (QUIC-LB), dropped unanswered.</summary>
    public long ForeignDatagrams { get; private set; }

    public IReadOnlyList<Connection> Connections => _connections;

    /// <summary>
    /// The clock of the times sealed in address validation tokens: wall-clock time, because a
    /// token outlives the process and, with a shared <c>StaticKey</c>, crosses a fleet, where the
    /// host's monotonic clock means nothing.
    /// </summary>
    public TimeProvider WallClock { get; set; } = TimeProvider.System;

    private long WallClockMicroseconds => WallClock.GetUtcNow().ToUnixTimeMilliseconds() * 1000;

    /// <summary>Opens a client connection from this endpoint.</summary>
    public Connection Connect(ConnectionOptions options, SocketAddress remote, long now, byte[]? token = null)
    {
        Connection connection = Connection.CreateClient(options with { ResetTokenFor = ResetTokenFor }, remote, now, token);
        Register(connection);
        return connection;
    }

    /// <summary>Handles one received datagram (decrypted in place by the connection it belongs to).</summary>
    public void Receive(long now, SocketAddress remote, Span<byte> datagram)
    {
        if (QuicHeaderReader.TryRead(datagram, ConnectionIdLength, out QuicPacketHeader header) != QuicHeaderError.None)
        {
            DroppedDatagrams++;
            return;
        }

        if (_lookup.TryGetValue(header.DestinationConnectionId, out Connection? connection))
        {
            connection.Receive(now, datagram, remote);
            _schedule.MarkReady(connection);
            return;
        }

        if (_serverOptions is null)
        {
            DroppedDatagrams++;
            return;
        }

        if (!header.IsLongHeader)
        {
            if (_serverOptions.ConnectionIds.IsForeign(header.DestinationConnectionId))
            {
                // Another server's connection, here by a 4-tuple tier's mistake: a reset from this
                // server would end it (RFC 9000 section 10.3), so the packet is only dropped.
                ForeignDatagrams++;
                DroppedDatagrams++;
                return;
            }

            SendStatelessReset(now, remote, datagram.Length, header.DestinationConnectionId);
            return;
        }

        // Only a datagram big enough to be a client's first flight earns an answer (RFC 9000 sections 6.1 and 14.1).
        if (datagram.Length < Connection.MinimumInitialDatagramSize || header.PacketType == QuicPacketType.VersionNegotiation)
        {
            DroppedDatagrams++;
            return;
        }

        if (Array.IndexOf(SupportedVersions, header.Version) < 0)
        {
            if (!MayAnswerStatelessly(now))
            {
                return;
            }

            // Connection IDs of unknown versions may be up to 255 octets each (RFC 8999 section 5.1).
            byte[] negotiation = new byte[7 + header.DestinationConnectionId.Length + header.SourceConnectionId.Length + (4 * SupportedVersions.Length)];
            int length = ProtectedPacketReader.WriteVersionNegotiation(negotiation, header.DestinationConnectionId, header.SourceConnectionId, SupportedVersions, (byte)RandomNumberGenerator.GetInt32(128));
            Enqueue(remote, negotiation.AsSpan(0, length).ToArray());
            VersionNegotiationsSent++;
            return;
        }

        if (header.PacketType != QuicPacketType.Initial || header.DestinationConnectionId.Length < 8 || _connections.Count >= MaxConnections
            || !ProtectedPacketReader.TryRead(datagram, 0, ConnectionIdLength, out ProtectedPacket packet))
        {
            DroppedDatagrams++;
            return;
        }

        Accept(now, remote, datagram, header.DestinationConnectionId.ToArray(), header.SourceConnectionId.ToArray(), header.Version, datagram[packet.Token]);
    }

    /// <summary>Writes the next datagram to send; returns its length (0 when there is none) and where it goes.</summary>
    public int Send(long now, Span<byte> buffer, out SocketAddress? destination)
    {
        while (_output.TryDequeue(out (SocketAddress Destination, byte[] Datagram) queued))
        {
            if (queued.Datagram.Length == 0 || queued.Datagram.Length > buffer.Length)
            {
                DroppedDatagrams++; // never hand the host an empty datagram: it stops at the first 0
                continue;
            }

            queued.Datagram.CopyTo(buffer);
            destination = queued.Destination;
            return queued.Datagram.Length;
        }

        // Only connections that something happened to are asked (ConnectionSchedule).
        int sent = _schedule.Send(now, buffer, out Connection? sender);
        destination = sender?.Remote;
        LastSendStandsAlone = sender?.LastDatagramStandsAlone ?? false;
        return sent;
    }

    /// <summary>
    /// Whether the datagram the last <see cref="Send"/> wrote should leave in a send of its own,
    /// not joined with its neighbours into one segmented (GSO) send (<see cref="Connection.LastDatagramStandsAlone"/>).
    /// </summary>
    public bool LastSendStandsAlone { get; private set; }

    /// <summary>The connections waiting for a send poll, and the timer queue's entries (for tests of the schedule).</summary>
    internal (int Ready, int TimerEntries) ScheduleSize => (_schedule.Ready, _schedule.TimerEntries);

    /// <summary>The earliest timer of any connection (from the timer queue; no scan).</summary>
    public long? NextTimeout => _schedule.NextTimeout;

    /// <summary>
    /// Fires the timers due at <paramref name="now"/>. The connections they touched are then sent
    /// from, visited and, when closed, forgotten by <see cref="ProcessTouched"/>, as after a receive.
    /// </summary>
    public void OnTimeout(long now) => _schedule.OnTimeout(now);

    /// <summary>
    /// Notes that the application changed <paramref name="connection"/> (wrote, read, opened,
    /// closed, queued a datagram…): its datagrams are sent and its deadline re-read on the next
    /// <see cref="Send"/> calls. The host calls it for every change it makes outside
    /// <see cref="Receive"/> and <see cref="OnTimeout"/>.
    /// </summary>
    public void Touch(Connection connection) => _schedule.MarkReady(connection);

    /// <summary>Touches every connection (tests that drive connections directly, and socket swaps).</summary>
    public void TouchAll() => _connections.ForEach(_schedule.MarkReady);

    /// <summary>Forgets connections that have reached the closed state.</summary>
    public void RemoveClosed() => ProcessTouched(null);

    /// <summary>
    /// Visits each connection touched since the last call (a datagram, a timer or the application
    /// changed it) — the host wakes its waiters — and forgets those that have closed.
    /// </summary>
    public void ProcessTouched(Action<Connection>? visit)
    {
        int count = _schedule.TakeTouched(out Connection[] touched);
        try
        {
            for (int i = 0; i < count; i++)
            {
                Forget(touched[i], visit);
            }
        }
        finally
        {
            System.Buffers.ArrayPool<Connection>.Shared.Return(touched, clearArray: true);
        }
    }

    /// <summary>Lets the host visit a touched connection, then drops it from the endpoint if it has closed.</summary>
    private void Forget(Connection connection, Action<Connection>? visit)
    {
        visit?.Invoke(connection);
        if (connection.State != ConnectionState.Closed || !_connections.Remove(connection))
        {
            return;
        }

        // Its own keys only (retired ones left the index when they were retired): no scan of every connection's.
        foreach (byte[] key in connection.LocalConnectionIds.Append(connection.ClientChosenConnectionId ?? []))
        {
            if (_byConnectionId.TryGetValue(key, out Connection? owner) && owner == connection)
            {
                _byConnectionId.Remove(key);
            }
        }

        _schedule.Remove(connection);
        connection.Dispose();
    }

    public void Dispose()
    {
        foreach (Connection connection in _connections)
        {
            connection.Dispose();
        }

        _connections.Clear();
        _tokens.Dispose();
        _sessionTickets?.Dispose();
    }

    /// <summary>The stateless reset token of a connection ID: a keyed hash, so a restarted server still knows it (RFC 9000 section 10.3.2).</summary>
    private byte[] ResetTokenFor(byte[] connectionId) => HMACSHA256.HashData(_staticKey.AsSpan(0, 32), connectionId)[..16];

    /// <summary>A copy of an address the host reuses for every receive.</summary>
    internal static SocketAddress Copy(SocketAddress address)
    {
        var copy = new SocketAddress(address.Family, address.Size);
        address.Buffer.Span[..address.Size].CopyTo(copy.Buffer.Span);
        return copy;
    }

    private void Accept(long now, SocketAddress remote, Span<byte> datagram, byte[] destination, byte[] source, uint version, ReadOnlySpan<byte> token)
    {
        byte[]? original = null;
        bool validated = false;
        if (!token.IsEmpty)
        {
            if (_tokens.TryValidate(token, remote, WallClockMicroseconds, out original, out byte[]? retrySource))
            {
                validated = true;
                if (retrySource is not null && !retrySource.AsSpan().SequenceEqual(destination))
                {
                    DroppedDatagrams++;
                    return;
                }
            }
            else
            {
                original = null;
            }
        }

        if ((RequireRetry || UnderHandshakeLoad()) && !validated)
        {
            byte[] retrySourceConnectionId = _serverOptions!.ConnectionIds.NewConnectionId();
            byte[] retryToken = _tokens.CreateRetryToken(remote, WallClockMicroseconds, destination, retrySourceConnectionId);
            Enqueue(remote, WriteRetry(version, source, retrySourceConnectionId, retryToken, destination));
            RetriesSent++;
            return;
        }

        SocketAddress peer = Copy(remote);
        ConnectionOptions options = _serverOptions! with { NewToken = () => _tokens.CreateNewToken(peer, WallClockMicroseconds) };
        Connection connection = Connection.CreateServer(options, peer, now, destination, source, version, original, validated);
        connection.Receive(now, datagram);
        if (!connection.HasReceivedPacket)
        {
            // Not a real client Initial (it did not decrypt): keep no state for it (RFC 9000 section 10.3 warns of such probes).
            connection.Dispose();
            DroppedDatagrams++;
            return;
        }

        _byConnectionId[destination] = connection;
        connection.ClientChosenConnectionId = destination;
        Register(connection);
        if (!validated)
        {
            _unvalidatedHandshakes.Add(connection);
        }

        ConnectionAccepted?.Invoke(connection);
    }

    /// <summary>Whether <see cref="MaxUnvalidatedHandshakes"/> are under way; prunes finished ones only when the set is full, so the cost stays bounded by the limit.</summary>
    private bool UnderHandshakeLoad()
    {
        if (_unvalidatedHandshakes.Count < MaxUnvalidatedHandshakes)
        {
            return false;
        }

        _unvalidatedHandshakes.RemoveWhere(c => c.HandshakeComplete || c.State != ConnectionState.Handshaking);
        return _unvalidatedHandshakes.Count >= MaxUnvalidatedHandshakes;
    }

    private void Register(Connection connection)
    {
        _connections.Add(connection);
        _schedule.Add(connection);
        foreach (byte[] id in connection.LocalConnectionIds)
        {
            _byConnectionId[id] = connection;
        }

        connection.ConnectionIdIssued = id => _byConnectionId[id] = connection;
        connection.ConnectionIdRetired = id => _byConnectionId.Remove(id);
    }

    /// <summary>A Retry packet (RFC 9000 section 17.2.5) with its integrity tag (RFC 9001 section 5.8).</summary>
    private static byte[] WriteRetry(uint version, byte[] clientSource, byte[] retrySource, byte[] token, byte[] originalDestination)
    {
        byte[] packet = new byte[7 + clientSource.Length + retrySource.Length + token.Length + RetryIntegrity.TagLength];
        int offset = LongHeaderWriter.Write(packet, (byte)(0xf0 | RandomNumberGenerator.GetInt32(16)), version, clientSource, retrySource);
        token.CopyTo(packet, offset);
        offset += token.Length;
        RetryIntegrity.ComputeTag(version, originalDestination, packet.AsSpan(0, offset), packet.AsSpan(offset));
        return packet;
    }

    private void SendStatelessReset(long now, SocketAddress remote, int receivedLength, ReadOnlySpan<byte> destinationConnectionId)
    {
        // Smaller than what triggered it, so two endpoints cannot loop, and at least 21 octets (RFC 9000 section 10.3.3).
        int length = Math.Min(receivedLength - 1, 43);
        if (length < 21 || destinationConnectionId.Length != ConnectionIdLength || ConnectionIdLength == 0)
        {
            DroppedDatagrams++;
            return;
        }

        if (!MayAnswerStatelessly(now))
        {
            return;
        }

        byte[] reset = new byte[length];
        RandomNumberGenerator.Fill(reset.AsSpan(0, length - 16));
        reset[0] = (byte)(0x40 | (reset[0] & 0x3f));
        ResetTokenFor(destinationConnectionId.ToArray()).CopyTo(reset, length - 16);
        Enqueue(remote, reset);
        StatelessResetsSent++;
    }

    /// <summary>Whether the budget for Version Negotiation and stateless resets allows one more now; counts the refusal.</summary>
    private bool MayAnswerStatelessly(long now)
    {
        if (_statelessAnswers.TryTake(now))
        {
            return true;
        }

        StatelessAnswersSuppressed++;
        DroppedDatagrams++;
        return false;
    }

    /// <summary>Queues a datagram sent without a connection; beyond <see cref="MaxQueuedAnswers"/> it is dropped and counted.</summary>
    private void Enqueue(SocketAddress remote, byte[] datagram)
    {
        if (_output.Count >= MaxQueuedAnswers)
        {
            StatelessAnswersSuppressed++;
            return;
        }

        _output.Enqueue((Copy(remote), datagram));
    }
}
