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

    /// <summary>Whether queued datagrams go before stream data (the default) or take turns with it.</summary>
    public QuicDatagramPriority DatagramPriority { get; set; }

    /// <summary>
    /// A datagram still queued this long after it was handed over is dropped instead of sent, and
    /// counted in <see cref="QuicDatagramStatistics.Expired"/> (zero: no limit). Stale telemetry or
    /// control input is worse than none; a send may set its own limit.
    /// </summary>
    public TimeSpan DatagramMaxAge { get; set; }

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
        InitialMaxData = 1 << 20,
        InitialMaxStreamDataBidiLocal = 512 * 1024,
        InitialMaxStreamDataBidiRemote = 512 * 1024,
        InitialMaxStreamDataUni = 512 * 1024,
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
