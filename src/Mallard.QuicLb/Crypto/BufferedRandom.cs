using System.Security.Cryptography;

namespace Mallard.QuicLb.Crypto;

/// <summary>
/// Cryptographically strong random octets handed out from a buffer that is refilled 512 octets
/// at a time, so that issuing a connection ID does not pay a system call for a few octets.
/// Thread safe.
/// </summary>
internal sealed class BufferedRandom
{
    private const int BufferLength = 512;

    private readonly byte[] _buffer = new byte[BufferLength];
    private readonly Lock _lock = new();
    private int _used = BufferLength;

    public static BufferedRandom Shared { get; } = new();

    public void Fill(Span<byte> destination)
    {
        if (destination.Length > BufferLength / 4)
        {
            RandomNumberGenerator.Fill(destination);
            return;
        }

        lock (_lock)
        {
            if (BufferLength - _used < destination.Length)
            {
                RandomNumberGenerator.Fill(_buffer);
                _used = 0;
            }

            Span<byte> taken = _buffer.AsSpan(_used, destination.Length);
            taken.CopyTo(destination);

            // Octets handed out are wiped so that they never sit in memory twice.
            taken.Clear();
            _used += destination.Length;
        }
    }
}
