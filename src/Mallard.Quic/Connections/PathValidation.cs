using System.Net;
using System.Security.Cryptography;

namespace Mallard.Quic.Connections;

/// <summary>
/// Path validation (RFC 9000 section 8.2): the PATH_CHALLENGE data outstanding on the current
/// path, if any, and the last peer address that answered one (or that the handshake validated),
/// where a failed validation falls back to (section 9.3.2). The connection owns the deadline
/// (<see cref="TimerKind.PathValidation"/>) and sending the frame.
/// </summary>
internal sealed class PathValidation
{
    /// <summary>PATH_CHALLENGE data: eight octets (RFC 9000 section 19.17), unpredictable so that an off-path attacker cannot answer.</summary>
    public const int ChallengeLength = 8;

    /// <summary>The data of the challenge awaiting its PATH_RESPONSE, or null.</summary>
    public byte[]? Challenge { get; private set; }

    /// <summary>Whether a challenge awaits its response.</summary>
    public bool Pending => Challenge is not null;

    /// <summary>The last peer address known to be the peer's, or null before any move.</summary>
    public SocketAddress? Validated { get; private set; }

    /// <summary>Paths validated by a PATH_RESPONSE.</summary>
    public int Validations { get; private set; }

    /// <summary>Remembers <paramref name="remote"/> as validated unless an address already is (the handshake's address, before the first move).</summary>
    public void RememberIfFirst(SocketAddress remote) => Validated ??= remote;

    /// <summary>Starts a validation with new challenge data.</summary>
    public void Start() => Challenge = RandomNumberGenerator.GetBytes(ChallengeLength);

    /// <summary>Stops waiting (the path went back to a validated address, or the validation timed out).</summary>
    public void Stop() => Challenge = null;

    /// <summary>A PATH_RESPONSE arrived: true when it answers the outstanding challenge, which makes <paramref name="remote"/> validated.</summary>
    public bool TryComplete(ReadOnlySpan<byte> response, SocketAddress remote)
    {
        if (Challenge is null || !response.SequenceEqual(Challenge))
        {
            return false;
        }

        Validated = remote;
        Challenge = null;
        Validations++;
        return true;
    }
}
