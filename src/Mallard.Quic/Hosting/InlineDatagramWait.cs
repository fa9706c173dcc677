using System.Threading.Tasks.Sources;

namespace Mallard.Quic.Hosting;

/// <summary>
/// The one reader of a connection with <see cref="QuicConnectionOptions.UnsafeInlineDatagramReads"/>
/// waiting for a datagram: armed under the host's lock, and completed by the host's receive loop
/// after it has let go of the lock (<see cref="EndpointHost.Wake"/>), so the reader's continuation
/// runs on that thread with no hand-off to the thread pool. Reused from wait to wait: nothing is
/// allocated per datagram.
/// </summary>
internal sealed class InlineDatagramWait(object gate) : IValueTaskSource, IThreadPoolWorkItem
{
    private ManualResetValueTaskSourceCore<bool> _core = new() { RunContinuationsAsynchronously = false };
    private CancellationTokenRegistration _cancellation;

    /// <summary>A reader waits on it (set and read under the host's lock).</summary>
    public bool Armed { get; private set; }

    /// <summary>Taken by a reader from arming until it has its result; a second concurrent reader waits on the channel instead.</summary>
    public bool InUse { get; private set; }

    /// <summary>Starts a wait; call under the host's lock when <see cref="InUse"/> is false.</summary>
    public ValueTask Arm(CancellationToken cancellationToken)
    {
        _core.Reset();
        InUse = true;
        Armed = true;
        if (cancellationToken.CanBeCanceled)
        {
            _cancellation = cancellationToken.UnsafeRegister(static (state, token) => ((InlineDatagramWait)state!).Cancel(token), this);
        }

        return new ValueTask(this, _core.Version);
    }

    private void Cancel(CancellationToken token)
    {
        lock (gate)
        {
            if (!Disarm())
            {
                return; // woken meanwhile: the wake completes it
            }
        }

        _core.SetException(new OperationCanceledException(token));
    }

    /// <summary>Takes the wait out of the armed state; false when it was not armed. Call under the host's lock.</summary>
    public bool Disarm()
    {
        if (!Armed)
        {
            return false;
        }

        Armed = false;
        return true;
    }

    /// <summary>The host's wake, after its lock is released: the reader goes on here (it reads again, or learns the connection closed).</summary>
    public void Execute()
    {
        _cancellation.Unregister(); // not Dispose: a running cancellation callback waits for the lock, not for this
        _core.SetResult(true);
    }

    void IValueTaskSource.GetResult(short token)
    {
        try
        {
            _core.GetResult(token);
        }
        finally
        {
            _cancellation = default;
            InUse = false;
        }
    }

    ValueTaskSourceStatus IValueTaskSource.GetStatus(short token) => _core.GetStatus(token);

    void IValueTaskSource.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);
}
