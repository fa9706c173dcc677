namespace Mallard.Steering;

/// <summary>Where a server is: this one, or another server's MAC on the segment (48 bits, first octet highest).</summary>
internal readonly record struct SteeringTarget(ulong Mac, bool IsSelf)
{
    /// <summary>This server.</summary>
    public static SteeringTarget Self => new(0, true);

    /// <summary>The six octets of <paramref name="mac"/> as one number (for hashing and comparing).</summary>
    public static ulong MacOf(ReadOnlySpan<byte> mac) =>
        ((ulong)mac[0] << 40) | ((ulong)mac[1] << 32) | ((ulong)mac[2] << 24) | ((ulong)mac[3] << 16) | ((ulong)mac[4] << 8) | mac[5];

    /// <summary>Writes <see cref="Mac"/> as six octets.</summary>
    public void WriteMac(Span<byte> destination)
    {
        for (int i = 0; i < 6; i++)
        {
            destination[i] = (byte)(Mac >> (40 - (8 * i)));
        }
    }
}
