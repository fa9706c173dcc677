namespace Mallard.Cli.Demo;

/// <summary>The download's content: a function of the offset, so the client can check every octet.</summary>
internal static class DemoData
{
    public static void Fill(Span<byte> destination, long offset)
    {
        for (int i = 0; i < destination.Length; i++)
        {
            long position = offset + i;
            destination[i] = (byte)((position * 31) ^ (position >> 11));
        }
    }
}
