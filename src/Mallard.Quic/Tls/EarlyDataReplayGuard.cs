namespace Mallard.Quic.Tls;

/// <summary>
/// Anti-replay for 0-RTT early data (RFC 8446 section 8), shared by the connections of one
/// listener. A ClientHello's early data is accepted only when the client's ticket age agrees
/// with the age the server computes from the ticket's sealed issue time within <see cref="WindowMilliseconds"/>
/// (section 8.3, freshness), and its PSK binder — unique to each ClientHello — was not accepted
/// before within that window (section 8.2, ClientHello recording). A replay to this server is
/// refused either way. Across a fleet that shares a ticket key, each server keeps its own record,
/// so a ClientHello copied to other servers within the window is accepted at most once by each;
/// the window bounds that. Bounded: at most <see cref="Capacity"/> binders are held, and when it is
/// full early data is refused (the handshake still completes, with the data sent again in 1-RTT).
/// Safe from any thread.
/// </summary>
internal sealed class EarlyDataReplayGuard(long windowMilliseconds = EarlyDataReplayGuard.DefaultWindowMilliseconds, int capacity = EarlyDataReplayGuard.DefaultCapacity)
{
    /// <summary>Ten seconds: wide enough for a client's round trip and clock rate, narrow enough to bound replays.</summary>
    public const long DefaultWindowMilliseconds = 10_000;

    public const int DefaultCapacity = 65_536;

    private readonly Dictionary<UInt128, long> _seen = [];
    private readonly Queue<(UInt128 Binder, long Expires)> _expiry = new();
    private readonly Lock _gate = new();

    public long WindowMilliseconds { get; } = windowMilliseconds;

    public int Capacity { get; } = capacity;

    /// <summary>Early data accepted.</summary>
    public long Accepted { get; private set; }

    /// <summary>Refused: the binder was seen within the window (a replay).</summary>
    public long Replays { get; private set; }

    /// <summary>Refused: the ticket age did not match (a late replay, or a client clock far off).</summary>
    public long NotFresh { get; private set; }

    /// <summary>Refused: the record was full.</summary>
    public long Full { get; private set; }

    /// <summary>Binders held now.</summary>
    public int Recorded
    {
        get
        {
            lock (_gate)
            {
                return _seen.Count;
            }
        }
    }

    /// <summary>
    /// Whether the early data of a ClientHello with <paramref name="binder"/> may be accepted:
    /// <paramref name="clientAgeMilliseconds"/> is the age the client reports (obfuscated_ticket_age
    /// minus ticket_age_add), <paramref name="serverAgeMilliseconds"/> the age by the ticket's issue time.
    /// </summary>
    public bool TryAccept(ReadOnlySpan<byte> binder, long clientAgeMilliseconds, long serverAgeMilliseconds, long nowMilliseconds)
    {
        lock (_gate)
        {
            if (Math.Abs(serverAgeMilliseconds - clientAgeMilliseconds) > WindowMilliseconds)
            {
                NotFresh++;
                return false;
            }

            while (_expiry.TryPeek(out (UInt128 Binder, long Expires) oldest) && oldest.Expires <= nowMilliseconds)
            {
                _expiry.Dequeue();
                _seen.Remove(oldest.Binder);
            }

            // A binder is an HMAC under the ticket's PSK: its first 16 octets name the ClientHello.
            UInt128 key = binder.Length >= 16 ? System.Buffers.Binary.BinaryPrimitives.ReadUInt128LittleEndian(binder) : 0;
            if (_seen.ContainsKey(key))
            {
                Replays++;
                return false;
            }

            if (_seen.Count >= Capacity)
            {
                Full++;
                return false;
            }

            // Held for twice the window: a ClientHello fresh now stays fresh for up to one window more.
            long expires = nowMilliseconds + (2 * WindowMilliseconds);
            _seen[key] = expires;
            _expiry.Enqueue((key, expires));
            Accepted++;
            return true;
        }
    }
}
