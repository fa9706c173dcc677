using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

namespace Mallard.Cli.Demo;

/// <summary>A child process of the demo: its output collected line by line, stopped with SIGTERM on dispose.</summary>
internal sealed partial class DemoChild : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private DemoChild(Process process) => _process = process;

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    public static DemoChild Start(string[] command)
    {
        var start = new ProcessStartInfo(command[0], command[1..]) { RedirectStandardOutput = true, RedirectStandardError = true };
        var child = new DemoChild(new Process { StartInfo = start });
        void Collect(object sender, DataReceivedEventArgs line)
        {
            if (line.Data is not null)
            {
                lock (child._output)
                {
                    child._output.AppendLine(line.Data);
                }
            }
        }

        child._process.OutputDataReceived += Collect;
        child._process.ErrorDataReceived += Collect;
        child._process.Start();
        child._process.BeginOutputReadLine();
        child._process.BeginErrorReadLine();
        return child;
    }

    /// <summary>Waits until the output holds <paramref name="text"/>; false when the process ended first or at the deadline.</summary>
    public async Task<bool> WaitForOutputAsync(string text, TimeSpan timeout, CancellationToken stop)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < timeout)
        {
            if (Output.Contains(text, StringComparison.Ordinal))
            {
                return true;
            }

            if (_process.HasExited)
            {
                return Output.Contains(text, StringComparison.Ordinal);
            }

            await Task.Delay(50, stop).ConfigureAwait(false);
        }

        return false;
    }

    /// <summary>Asks the process to stop (SIGTERM) and waits for it; its exit code.</summary>
    public async Task<int> StopAsync()
    {
        if (!_process.HasExited)
        {
            _ = Kill(_process.Id, 15);
        }

        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            await _process.WaitForExitAsync(deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            _process.Kill(entireProcessTree: true);
        }

        return _process.HasExited ? _process.ExitCode : -1;
    }

    /// <summary>Waits for the process to end; its exit code, or null at the deadline.</summary>
    public async Task<int?> WaitForExitAsync(TimeSpan timeout, CancellationToken stop)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(stop);
        deadline.CancelAfter(timeout);
        try
        {
            await _process.WaitForExitAsync(deadline.Token).ConfigureAwait(false);
            return _process.ExitCode;
        }
        catch (OperationCanceledException) when (!stop.IsCancellationRequested)
        {
            return null;
        }
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }

        _process.Dispose();
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int processId, int signal);
}
