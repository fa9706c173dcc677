namespace Mallard.Quic.Hosting;

/// <summary>
/// "Something changed": waiters take the current task under the host's lock, check their
/// condition, and await; <see cref="Pulse"/> completes it, and the next waiter gets a new one. No
/// wake-up is lost because the check and the wait are taken under the same lock as the pulse. A
/// pulse with nobody waiting costs nothing (the host pulses on every cycle).
/// </summary>
internal sealed class AsyncSignal
{
    private TaskCompletionSource? _current;

    public Task Task => (_current ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;

    public void Pulse()
    {
        TaskCompletionSource? waiting = _current;
        if (waiting is not null)
        {
            _current = null;
            waiting.TrySetResult();
        }
    }
}
