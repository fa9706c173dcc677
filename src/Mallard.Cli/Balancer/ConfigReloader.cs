using Mallard.Balancer;
using Mallard.Balancer.Configuration;

namespace Mallard.Cli.Balancer;

/// <summary>
/// Reloads the balancer's configuration file when it changes (after it has been quiet for a
/// moment, since editors write in several steps) or when asked (SIGHUP). Without a file, the
/// built-in defaults and environment variables are read again.
/// </summary>
internal sealed class ConfigReloader : IDisposable
{
    private readonly string? _path;
    private readonly LoadBalancer _balancer;
    private readonly FileSystemWatcher? _watcher;
    private readonly Timer _settle;
    private readonly TimeSpan _settleTime;
    private readonly Lock _gate = new();

    public ConfigReloader(string? path, LoadBalancer balancer, TimeSpan settleTime)
    {
        _path = path;
        _balancer = balancer;
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

    /// <summary>Reads and validates the configuration and swaps it in, or logs why not.</summary>
    public void ReloadNow()
    {
        lock (_gate)
        {
            try
            {
                _balancer.Reload(BalancerConfigLoader.LoadFile(_path));
            }
            catch (MallardConfigException failure)
            {
                _balancer.RejectReload(failure.Message);
            }
        }
    }

    public void Dispose()
    {
        _watcher?.Dispose();
        _settle.Dispose();
    }

    private void Schedule() => _settle.Change(_settleTime, Timeout.InfiniteTimeSpan);
}
