using System.Security.Cryptography;

namespace Mallard.Quic.Connections;

/// <summary>Random connection IDs of a fixed length (8 octets by default), unlinkable to each other (RFC 9000 section 5.1).</summary>
public sealed class RandomConnectionIdGenerator : IConnectionIdGenerator
{
    /// <summary>Creates a generator of <paramref name="length"/>-octet IDs.</summary>
    public RandomConnectionIdGenerator(int length = 8)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(length, 0);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(length, 20);
        ConnectionIdLength = length;
    }

    /// <inheritdoc/>
    public int ConnectionIdLength { get; }

    /// <inheritdoc/>
    public byte[] NewConnectionId() => RandomNumberGenerator.GetBytes(ConnectionIdLength);
}
