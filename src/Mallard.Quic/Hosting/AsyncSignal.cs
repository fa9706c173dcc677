namespace Mallard.Quic.Hosting;

/// <summary>
/// "Something changed": waiters take the current task under the host's lock, check their
/// condition, and await; <see cref="Pulse"/> completes it and starts a new one. No wake-up is
/// lost because the check and the wait are taken under the same lock as the pulse.
/// </summary>
internal sealed class AsyncSignal
{
    private TaskCompletionSource _current = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task Task => _current.Task;

    public void Pulse()
    {
        TaskCompletionSource previous = _current;
        _current = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        previous.TrySetResult();
    }
}
