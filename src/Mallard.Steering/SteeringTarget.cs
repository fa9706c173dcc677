namespace Mallard.Steering;

/// <summary>
/// Where a server is: this one, or another server's MAC (48 bits, first octet highest) — on the
/// segment, or, with an <paramref name="Underlay"/> address, of its VXLAN device behind that address.
/// </summary>
internal readonly record struct SteeringTarget(ulong Mac, bool IsSelf, System.Net.IPAddress? Underlay = null, ulong NextHop = 0)
{
    /// <summary>This server.</summary>
    public static SteeringTarget Self => new(0, true);

    /// <summary>The six octets of <paramref name="mac"/> as one number (for hashing and comparing).</summary>
    public static ulong MacOf(ReadOnlySpan<byte> mac) =>
        ((ulong)mac[0] << 40) | ((ulong)mac[1] << 32) | ((ulong)mac[2] << 24) | ((ulong)mac[3] << 16) | ((ulong)mac[4] << 8) | mac[5];

    /// <summary>Writes <see cref="Mac"/> as six octets.</summary>
    public void WriteMac(Span<byte> destination) => WriteMac(Mac, destination);

    /// <summary>Writes a MAC held as a number as six octets.</summary>
    public static void WriteMac(ulong mac, Span<byte> destination)
    {
        for (int i = 0; i < 6; i++)
        {
            destination[i] = (byte)(mac >> (40 - (8 * i)));
        }
    }
}
