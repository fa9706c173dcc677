using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

namespace Mallard.TestSupport;

/// <summary>A child process whose output is collected as it arrives, killed on dispose.</summary>
public sealed class RunningProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private bool _disposed;

    private RunningProcess(Process process) => _process = process;

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

    public int ExitCode => _process.ExitCode;

    /// <summary>The process ID.</summary>
    public int Id => _process.Id;

    /// <summary>Whether the process has ended.</summary>
    public bool HasExited => _process.HasExited;

    /// <summary>Sends SIGINT, as Ctrl-C would, so the process can shut down cleanly.</summary>
    /// <remarks>Through libc, not the kill command: procps is not on every fresh Debian machine.</remarks>
    public void Interrupt() => Signal(2, "SIGINT");

    /// <summary>
    /// Sends SIGTERM, as a service manager would. Prefer it to <see cref="Interrupt"/> for programs
    /// of ours: a suite started as a background job without job control inherits SIGINT as
    /// ignored (POSIX shells do that to background commands), and .NET keeps an ignored SIGINT ignored.
    /// </summary>
    public void Terminate() => Signal(15, "SIGTERM");

    /// <summary>Sends SIGKILL (<c>kill -9</c>): the process ends at once, as in a crash, and cleans nothing up.</summary>
    public void Kill() => Signal(9, "SIGKILL");

    /// <summary>Sends a signal by number (SIGHUP 1, SIGUSR2 12, ...).</summary>
    public void Signal(int number) => Signal(number, $"signal {number}");

    /// <summary>Sends a signal to any process, such as one that a process of ours started; false when it is gone.</summary>
    public static bool Signal(int processId, int number) => SendSignal(processId, number) == 0;

    /// <summary>
    /// Waits until the process itself has ended, without waiting for its output to close (a
    /// process it started may hold that open); false at the deadline.
    /// </summary>
    public async Task<bool> WaitForProcessExitAsync(TimeSpan timeout)
    {
        long deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        while (!_process.HasExited && Environment.TickCount64 < deadline)
        {
            await Task.Delay(20);
        }

        return _process.HasExited;
    }

    private void Signal(int number, string name)
    {
        if (SendSignal(_process.Id, number) != 0)
        {
            throw new InvalidOperationException($"kill({_process.Id}, {name}) failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int SendSignal(int pid, int signal);

    public static RunningProcess Start(string file, IEnumerable<string> arguments)
    {
        var process = new Process
        {
            StartInfo = new ProcessStartInfo(file, arguments)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                RedirectStandardInput = true,
            },
        };
        var running = new RunningProcess(process);
        process.OutputDataReceived += (_, line) => running.Append(line.Data);
        process.ErrorDataReceived += (_, line) => running.Append(line.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return running;
    }

    /// <summary>
    /// Waits until the output holds <paramref name="text"/>; gives up early when the process has
    /// exited, unless <paramref name="afterExit"/> (a process it started may still write to it).
    /// </summary>
    public async Task<bool> WaitForOutputAsync(string text, TimeSpan timeout, bool afterExit = false)
    {
        long deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        while (Environment.TickCount64 < deadline)
        {
            if (Output.Contains(text, StringComparison.Ordinal))
            {
                return true;
            }

            if (_process.HasExited && !afterExit)
            {
                break;
            }

            await Task.Delay(20);
        }

        return Output.Contains(text, StringComparison.Ordinal);
    }

    /// <summary>Waits for exit (killing the process at the deadline) and returns the exit code.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
            Append("(killed at the test's deadline)");
        }

        _process.WaitForExit();
        return _process.ExitCode;
    }

    public void WriteLine(string line)
    {
        _process.StandardInput.WriteLine(line);
        _process.StandardInput.Flush();
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }

        _process.Dispose();
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }
    }
}
