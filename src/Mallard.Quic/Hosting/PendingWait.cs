using Mallard.Quic.Connections;

namespace Mallard.Quic.Hosting;

/// <summary>
/// A caller of <see cref="QuicConnection.WaitAsync"/> whose condition did not hold yet (a stream
/// read with nothing to read, a write with a full buffer, an accept with no stream). After each
/// host cycle of its connection the attempt is run again under the lock, and only a wait whose
/// attempt now succeeds (or fails) is completed: a connection with many waiting streams wakes
/// the ones that can go on, not all of them (each wake-up is a thread-pool hand-off).
/// </summary>
internal sealed class PendingWait(QuicConnection owner, Func<Connection, bool> attempt)
    : TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)
{
    /// <summary>Does the operation if it can; true when done.</summary>
    public Func<Connection, bool> Attempt { get; } = attempt;

    public CancellationTokenRegistration Cancellation { get; set; }

    /// <summary>The caller's token fired: forget the wait unless it has completed meanwhile.</summary>
    public void Cancel(CancellationToken token)
    {
        lock (owner.Gate)
        {
            if (owner.ForgetWaitLocked(this))
            {
                TrySetCanceled(token);
            }
        }
    }
}
