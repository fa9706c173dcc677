using System.Net.Security;
using Mallard.Quic.Connections;
using Mallard.Quic.Transport;

namespace Mallard.Quic;

/// <summary>Settings both sides of a connection share.</summary>
public class QuicConnectionOptions
{
    /// <summary>The error code sent when a connection is disposed without <see cref="QuicConnection.CloseAsync"/>.</summary>
    public long DefaultCloseErrorCode { get; set; }

    /// <summary>The error code used when a stream is disposed with unread data or unfinished writes abort it.</summary>
    public long DefaultStreamErrorCode { get; set; }

    /// <summary>Close the connection after this long without traffic (RFC 9000 section 10.1); the smaller of both sides' values applies.</summary>
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How many bidirectional streams the peer may have open at once.</summary>
    public int MaxInboundBidirectionalStreams { get; set; } = 100;

    /// <summary>How many unidirectional streams the peer may have open at once.</summary>
    public int MaxInboundUnidirectionalStreams { get; set; } = 100;

    /// <summary>Receives SSLKEYLOGFILE lines (for Wireshark/tshark decryption) when set.</summary>
    public Action<string>? KeyLog { get; set; }

    /// <summary>
    /// Send a PING when nothing else ack-eliciting went out for this long (zero: never). Keeps NAT
    /// mappings alive, and after a NAT rebinding lets the server find a client that only receives.
    /// </summary>
    public TimeSpan KeepAliveInterval { get; set; }

    /// <summary>
    /// The largest UDP payload to send: the ceiling of path MTU discovery (default 1452, what a
    /// 1500-octet IPv6 packet carries). Until a probe of a larger size is acknowledged, packets
    /// are 1200 octets. With <see cref="DiscoverPathMtu"/> off, every packet after the handshake
    /// is this large, unprobed. The peer's max_udp_payload_size bounds it too.
    /// </summary>
    public int MaxUdpPayloadSize { get; set; } = 1452;

    /// <summary>
    /// Probe the path for the largest packet it carries, up to <see cref="MaxUdpPayloadSize"/>
    /// (DPLPMTUD, RFC 8899 and RFC 9000 section 14.3; the default), and fall back to 1200 octets
    /// when large packets stop getting through. Off: trust <see cref="MaxUdpPayloadSize"/>.
    /// </summary>
    public bool DiscoverPathMtu { get; set; } = true;

    /// <summary>
    /// Accept DATAGRAM frames from the peer (RFC 9221): advertises max_datagram_frame_size. Sending
    /// datagrams depends only on the peer having advertised it.
    /// </summary>
    public bool EnableDatagrams { get; set; }

    /// <summary>Datagrams that may wait to be sent; beyond that, sends are refused and counted.</summary>
    public int DatagramSendQueueCapacity { get; set; } = 256;

    /// <summary>Received datagrams that may wait to be read; beyond that the oldest is dropped and counted.</summary>
    public int DatagramReceiveQueueCapacity { get; set; } = 1024;

    /// <summary>
    /// Unsafe unless the code after <c>await ReadDatagramAsync</c> never blocks: a datagram's
    /// reader then goes on on the thread that received the datagram, as soon as that thread has
    /// let go of the connection's state, instead of on another thread-pool thread. That saves a
    /// thread's wake-up per datagram (about 30 µs of an idle round trip on a 2-core machine,
    /// BENCHMARKS.md), but while the reader's code runs nothing else is received on the socket —
    /// for a listener, on any of its connections — so code that waits synchronously for the
    /// connection (<c>.Result</c>, <c>.Wait()</c>) there would wait forever. Default false; the
    /// idea is Kestrel's <c>UnsafePreferInlineScheduling</c>. One reader at a time is woken this
    /// way; a second concurrent reader waits as usual.
    /// </summary>
    public bool UnsafeInlineDatagramReads { get; set; }

    /// <summary>Whether queued datagrams go before stream data (the default) or take turns with it.</summary>
    public QuicDatagramPriority DatagramPriority { get; set; }

    /// <summary>
    /// A datagram still queued this long after it was handed over is dropped instead of sent, and
    /// counted in <see cref="QuicDatagramStatistics.Expired"/> (zero: no limit). Stale telemetry or
    /// control input is worse than none; a send may set its own limit.
    /// </summary>
    public TimeSpan DatagramMaxAge { get; set; }

    /// <summary>
    /// The flow-control window each stream starts with, in octets (RFC 9000 section 4): what the
    /// peer may send on a stream before this side reads (default 128 KiB, from 16 KiB to 16 MiB).
    /// The window doubles, up to 16 MiB, whenever the application reads half of it within two
    /// minimum round trips, so a long fat path still gets the window it needs. Kept small, the
    /// window bounds the data queued in front of this receiver when it is the slower side — the
    /// queue a DATAGRAM arriving during a download waits behind (BENCHMARKS.md: on loopback 512 KiB
    /// held a datagram's round trip at 0.8–1.4 ms, 128 KiB at 0.35–0.48 ms).
    /// </summary>
    public int InitialStreamReceiveWindow { get; set; } = DefaultStreamReceiveWindow;

    /// <summary>The congestion controller: CUBIC (RFC 9438, the default) or NewReno (RFC 9002). Both pace their packets.</summary>
    public QuicCongestionControl CongestionControl { get; set; }

    /// <summary>
    /// Write a qlog of every connection into this directory: JSON-SEQ files named
    /// <c>{original DCID}_{client|server}.sqlog</c> that qvis reads. Created when missing.
    /// </summary>
    public string? QlogDirectory { get; set; }

    /// <summary>Opens a connection's qlog file under <see cref="QlogDirectory"/>; null when no qlog is wanted.</summary>
    internal Func<string, Stream>? QlogOpener() => QlogDirectory is not { Length: > 0 } directory ? null : name =>
    {
        Directory.CreateDirectory(directory);
        return new FileStream(Path.Combine(directory, name), FileMode.Create, FileAccess.Write, FileShare.Read, 64 * 1024);
    };

    private const int DefaultStreamReceiveWindow = 128 * 1024;

    /// <summary>The smallest and largest <see cref="InitialStreamReceiveWindow"/>; the largest is what auto-tuning grows to.</summary>
    private const int MinStreamReceiveWindow = 16 * 1024, MaxStreamReceiveWindow = 16 * 1024 * 1024;

    /// <summary>The largest DATAGRAM frame advertised when <see cref="EnableDatagrams"/> is set.</summary>
    internal const int MaxDatagramFrameSize = 65_535;

    /// <summary>The core's options for one side of a connection; the caller adds what is particular to that side.</summary>
    internal ConnectionOptions CoreOptions(bool isServer, IReadOnlyList<string> applicationProtocols, IReadOnlyList<TlsCipherSuite>? cipherSuites) => new()
    {
        IsServer = isServer,
        ApplicationProtocols = applicationProtocols,
        LocalParameters = TransportParameters(),
        CipherSuites = cipherSuites is { Count: > 0 } suites ? [.. suites.Select(s => (ushort)s)] : Tls.TlsHandshake.SupportedCipherSuites,
        KeyLog = KeyLog,
        MaxUdpPayloadSize = MaxUdpPayloadSize,
        DiscoverPathMtu = DiscoverPathMtu,
        DatagramSendQueueCapacity = DatagramSendQueueCapacity,
        DatagramReceiveQueueCapacity = DatagramReceiveQueueCapacity,
        OpenQlog = QlogOpener(),
        KeepAliveInterval = KeepAliveInterval.Ticks / TimeSpan.TicksPerMicrosecond,
        DatagramPriority = DatagramPriority,
        DatagramMaxAge = DatagramMaxAge.Ticks / TimeSpan.TicksPerMicrosecond,
        CongestionControl = CongestionControl,
    };

    internal TransportParameters TransportParameters() => new()
    {
        MaxDatagramFrameSize = EnableDatagrams ? MaxDatagramFrameSize : null,
        MaxIdleTimeout = (ulong)IdleTimeout.TotalMilliseconds,
        // The connection's window covers several streams at their initial windows (section 4.1).
        InitialMaxData = (ulong)Math.Max(1 << 20, 2L * InitialStreamReceiveWindow),
        InitialMaxStreamDataBidiLocal = (ulong)InitialStreamReceiveWindow,
        InitialMaxStreamDataBidiRemote = (ulong)InitialStreamReceiveWindow,
        InitialMaxStreamDataUni = (ulong)InitialStreamReceiveWindow,
        InitialMaxStreamsBidi = (ulong)MaxInboundBidirectionalStreams,
        InitialMaxStreamsUni = (ulong)MaxInboundUnidirectionalStreams,
        ActiveConnectionIdLimit = 4,
        MaxUdpPayloadSize = (ulong)MaxReceiveDatagramSize,
    };

    /// <summary>
    /// The largest datagram this endpoint reads, advertised as max_udp_payload_size (RFC 9000
    /// section 18.2): what it sends, and never less than an Ethernet frame's 1,500 octets.
    /// </summary>
    internal int MaxReceiveDatagramSize => Math.Max(1_500, MaxUdpPayloadSize);

    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfNegative(MaxInboundBidirectionalStreams);
        ArgumentOutOfRangeException.ThrowIfNegative(MaxInboundUnidirectionalStreams);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxUdpPayloadSize, 1200);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(MaxUdpPayloadSize, 65_527);
        ArgumentOutOfRangeException.ThrowIfLessThan(IdleTimeout, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(KeepAliveInterval, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(KeepAliveInterval, TimeSpan.FromDays(1));
        ArgumentOutOfRangeException.ThrowIfLessThan(DatagramSendQueueCapacity, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(DatagramReceiveQueueCapacity, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(DatagramMaxAge, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(InitialStreamReceiveWindow, MinStreamReceiveWindow);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(InitialStreamReceiveWindow, MaxStreamReceiveWindow);
        if (!Enum.IsDefined(DatagramPriority))
        {
            throw new ArgumentOutOfRangeException(nameof(DatagramPriority), DatagramPriority, "must be First or Fair");
        }

        if (!Enum.IsDefined(CongestionControl))
        {
            throw new ArgumentOutOfRangeException(nameof(CongestionControl), CongestionControl, "must be Cubic or NewReno");
        }
    }
}
