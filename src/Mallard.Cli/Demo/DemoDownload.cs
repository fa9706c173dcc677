namespace Mallard.Cli.Demo;

/// <summary>
/// The demo's download as the client reads it: every octet checked against <see cref="DemoData"/>,
/// and the NAT rebound once half has arrived. Progress stays readable when the read fails.
/// </summary>
internal sealed class DemoDownload(long total, UdpNat nat, Action<string> log)
{
    public long Received { get; private set; }

    public bool Intact { get; private set; } = true;

    /// <summary>Reads <paramref name="content"/> to its end (at most 60 s); a broken connection's exception propagates.</summary>
    public async Task ReadAsync(Stream content, CancellationToken stop)
    {
        byte[] buffer = new byte[256 * 1024];
        byte[] expected = new byte[buffer.Length];
        bool rebound = false;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stop);
        timeout.CancelAfter(TimeSpan.FromSeconds(60));
        int read;
        while ((read = await content.ReadAsync(buffer, timeout.Token).ConfigureAwait(false)) > 0)
        {
            DemoData.Fill(expected.AsSpan(0, read), Received);
            Intact &= buffer.AsSpan(0, read).SequenceEqual(expected.AsSpan(0, read));
            Received += read;
            if (!rebound && Received >= total / 2)
            {
                rebound = true;
                System.Net.IPEndPoint before = nat.PublicEndPoint;
                nat.Rebind();
                log($"NAT       50 %: the client's public address changes {before} → {nat.PublicEndPoint}; the old mapping is gone");
            }
        }
    }
}
