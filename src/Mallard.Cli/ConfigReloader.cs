namespace Mallard.Cli;

/// <summary>
/// Reloads a configuration file when it changes (after it has been quiet for a moment, since
/// editors write in several steps) or when asked (SIGHUP), by running the command's reload,
/// which reads, validates and applies the file or says why not. Used by <c>mallard lb</c> and
/// <c>mallard steer</c>.
/// </summary>
internal sealed class ConfigReloader : IDisposable
{
    private readonly Action _reload;
    private readonly FileSystemWatcher? _watcher;
    private readonly Timer _settle;
    private readonly TimeSpan _settleTime;
    private readonly Lock _gate = new();

    public ConfigReloader(string? path, Action reload, TimeSpan settleTime)
    {
        _reload = reload;
        _settleTime = settleTime;
        _settle = new Timer(_ => ReloadNow());
        if (path is not null)
        {
            _watcher = new FileSystemWatcher(Path.GetDirectoryName(path)!, Path.GetFileName(path))
            {
                NotifyFilter = NotifyFilters.LastWrite | NotifyFilters.FileName | NotifyFilters.Size | NotifyFilters.CreationTime,
            };
            _watcher.Changed += (_, _) => Schedule();
            _watcher.Created += (_, _) => Schedule();
            _watcher.Renamed += (_, _) => Schedule();
            _watcher.EnableRaisingEvents = true;
        }
    }

    /// <summary>Runs the reload now (one at a time).</summary>
    public void ReloadNow()
    {
        lock (_gate)
        {
            _reload();
        }
    }

    public void Dispose()
    {
        _watcher?.Dispose();
        _settle.Dispose();
    }

    private void Schedule() => _settle.Change(_settleTime, Timeout.InfiniteTimeSpan);
}
