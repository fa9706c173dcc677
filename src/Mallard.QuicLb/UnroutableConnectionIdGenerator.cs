using System.Globalization;
using Mallard.QuicLb.Crypto;

namespace Mallard.QuicLb;

/// <summary>
/// Issues connection IDs for a server that has no QUIC-LB configuration: config rotation bits
/// 0b111, which tell load balancers to fall back to 4-tuple routing, the length self-encoded in
/// the low five bits, and random octets after (draft-21 section 3.1).
/// </summary>
public sealed class UnroutableConnectionIdGenerator
{
    /// <summary>Shortest connection ID issued, so that the random part keeps enough entropy.</summary>
    public const int MinLength = 8;

    /// <summary>Longest connection ID QUIC v1 allows.</summary>
    public const int MaxLength = 20;

    /// <summary>Creates a generator for connection IDs of <paramref name="length"/> octets.</summary>
    /// <exception cref="QuicLbConfigException">The length is not 8 to 20.</exception>
    public UnroutableConnectionIdGenerator(int length = MinLength)
    {
        if (length is < MinLength or > MaxLength)
        {
            throw new QuicLbConfigException(nameof(length), string.Create(CultureInfo.InvariantCulture,
                $"length is {length}; an unroutable connection ID is {MinLength} to {MaxLength} octets."));
        }

        ConnectionIdLength = length;
    }

    /// <summary>Length of every connection ID issued.</summary>
    public int ConnectionIdLength { get; }

    /// <summary>Writes a new connection ID to <paramref name="destination"/> and returns its length.</summary>
    public int Issue(Span<byte> destination)
    {
        if (destination.Length < ConnectionIdLength)
        {
            throw new ArgumentException($"The destination must hold {ConnectionIdLength} octets.", nameof(destination));
        }

        BufferedRandom.Shared.Fill(destination[1..ConnectionIdLength]);
        destination[0] = (byte)((QuicLbConfig.UnroutableConfigId << 5) | (ConnectionIdLength - 1));
        return ConnectionIdLength;
    }

    /// <summary>Issues a new connection ID as a new array.</summary>
    public byte[] Issue()
    {
        var connectionId = new byte[ConnectionIdLength];
        Issue(connectionId);
        return connectionId;
    }
}
