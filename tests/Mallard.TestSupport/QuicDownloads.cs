using System.Security.Cryptography;
using Mallard.Quic;

namespace Mallard.TestSupport;

/// <summary>Transfers over Mallard.Quic's public API that tests of moves and rebindings share.</summary>
public static class QuicDownloads
{
    /// <summary>
    /// The server sends 4 MB on a unidirectional stream; halfway through, <paramref name="move"/>
    /// changes the client's path. Throws unless the move happened and every octet arrived intact.
    /// </summary>
    public static async Task DownloadWithAMoveHalfwayAsync(QuicConnection server, QuicConnection client, Func<Task> move)
    {
        byte[] payload = RandomNumberGenerator.GetBytes(4_000_000);
        Task send = Task.Run(async () =>
        {
            await using QuicStream stream = await server.OpenOutboundStreamAsync(QuicStreamType.Unidirectional);
            await stream.WriteAsync(payload, completeWrites: true);
        });
        await using QuicStream incoming = await client.AcceptInboundStreamAsync();
        byte[] buffer = new byte[64 * 1024];
        using var received = new MemoryStream();
        bool moved = false;
        int read;
        while ((read = await incoming.ReadAsync(buffer).AsTask().WaitAsync(TimeSpan.FromSeconds(20))) > 0)
        {
            received.Write(buffer, 0, read);
            if (!moved && received.Length > payload.Length / 2)
            {
                moved = true;
                await move();
            }
        }

        await send.WaitAsync(TimeSpan.FromSeconds(20));
        if (!moved || !SHA256.HashData(payload).AsSpan().SequenceEqual(SHA256.HashData(received.ToArray())))
        {
            throw new InvalidOperationException($"moved: {moved}; {received.Length} of {payload.Length} octets, {(moved ? "contents differ" : "")}");
        }
    }
}
