using System.Net;

namespace Mallard.Quic.Tests.Hosting;

/// <summary>
/// <see cref="QuicConnectionOptions.UnsafeInlineDatagramReads"/>: a datagram's reader goes on on the
/// receive loop's thread, outside the host's lock; cancellation, closing and a second reader still work.
/// </summary>
public class InlineDatagramWaitTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task TheReaderGoesOnOnTheReceiveLoopOutsideTheLockAndCanAnswerFromThere()
    {
        await using var pair = await Pair.StartAsync(inline: true);
        for (int i = 0; i < 20; i++)
        {
            Assert.Equal(i, BitConverter.ToInt32(await pair.ReadWhileServerSendsAsync(BitConverter.GetBytes(i))));
        }

        // Every wake ran on the receive loop; the continuations never held the host's lock.
        Assert.InRange(pair.Client.Host.InlineWakes, 20, long.MaxValue);
        bool lockHeld = true;
        Task answered = Task.Run(async () =>
        {
            byte[] request = await pair.Client.ReadDatagramAsync();
            lockHeld = Monitor.IsEntered(pair.Client.Host.Gate);
            pair.Client.SendDatagram(request); // answering from the receive loop's thread sends without waiting for itself
        });
        await Task.Delay(5);
        pair.Server.SendDatagram("quack"u8.ToArray());
        await answered.WaitAsync(Patience);
        Assert.False(lockHeld);
        Assert.Equal("quack"u8.ToArray(), await pair.Server.ReadDatagramAsync().AsTask().WaitAsync(Patience));
    }

    [Fact]
    public async Task WithoutTheOptionNothingRunsOnTheReceiveLoop()
    {
        await using var pair = await Pair.StartAsync(inline: false);
        for (int i = 0; i < 5; i++)
        {
            Assert.Equal([(byte)i], await pair.ReadWhileServerSendsAsync([(byte)i]));
        }

        Assert.Equal(0, pair.Client.Host.InlineWakes);
    }

    [Fact]
    public async Task ACancelledWaitEndsAndTheNextReadStillGetsItsDatagram()
    {
        await using var pair = await Pair.StartAsync(inline: true);
        using (var cancel = new CancellationTokenSource())
        {
            Task<byte[]> read = pair.Client.ReadDatagramAsync(cancel.Token).AsTask();
            await Task.Delay(5);
            await cancel.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => read.WaitAsync(Patience));
        }

        Assert.Equal("after"u8.ToArray(), await pair.ReadWhileServerSendsAsync("after"u8.ToArray()));
    }

    [Fact]
    public async Task TwoReadersBothGetADatagramAndAWaitingReaderLearnsOfTheClose()
    {
        await using var pair = await Pair.StartAsync(inline: true);
        Task<byte[]> first = pair.Client.ReadDatagramAsync().AsTask();
        Task<byte[]> second = pair.Client.ReadDatagramAsync().AsTask(); // the wait is taken: this one waits on the queue
        await Task.Delay(5);
        pair.Server.SendDatagram("one"u8.ToArray());
        pair.Server.SendDatagram("two"u8.ToArray());
        byte[][] both = await Task.WhenAll(first, second).WaitAsync(Patience);
        Assert.Equal(["one", "two"], both.Select(b => System.Text.Encoding.ASCII.GetString(b)).Order());

        Task<byte[]> waiting = pair.Client.ReadDatagramAsync().AsTask();
        await Task.Delay(5);
        await pair.Server.CloseAsync(7);
        QuicException closed = await Assert.ThrowsAsync<QuicException>(() => waiting.WaitAsync(Patience));
        Assert.Equal(7, closed.ApplicationErrorCode);
    }

    /// <summary>A listener and a client on loopback with datagrams, the client reading inline or not.</summary>
    private sealed class Pair : IAsyncDisposable
    {
        private QuicListener _listener = null!;

        public QuicConnection Client { get; private set; } = null!;

        public QuicConnection Server { get; private set; } = null!;

        public static async Task<Pair> StartAsync(bool inline)
        {
            var pair = new Pair();
            pair._listener = await QuicListener.ListenAsync(new QuicListenerOptions
            {
                ListenEndPoint = new IPEndPoint(IPAddress.Loopback, 0),
                ApplicationProtocols = ["siduck"],
                ConnectionOptions = new QuicConnectionOptions { EnableDatagrams = true },
            });
            pair.Client = await QuicConnection.ConnectAsync(new QuicClientConnectionOptions
            {
                RemoteEndPoint = pair._listener.LocalEndPoint,
                ApplicationProtocols = ["siduck"],
                SkipCertificateValidation = true,
                EnableDatagrams = true,
                UnsafeInlineDatagramReads = inline,
            });
            pair.Server = await pair._listener.AcceptConnectionAsync().AsTask().WaitAsync(Patience);
            return pair;
        }

        /// <summary>Starts a client read, and only once it waits has the server send <paramref name="payload"/>: the arrival completes an armed wait.</summary>
        public async Task<byte[]> ReadWhileServerSendsAsync(byte[] payload)
        {
            Task<byte[]> read = Client.ReadDatagramAsync().AsTask();
            await Task.Delay(5);
            Assert.False(read.IsCompleted);
            Server.SendDatagram(payload);
            return await read.WaitAsync(Patience);
        }

        public async ValueTask DisposeAsync()
        {
            await Client.DisposeAsync();
            await Server.DisposeAsync();
            await _listener.DisposeAsync();
        }
    }
}
