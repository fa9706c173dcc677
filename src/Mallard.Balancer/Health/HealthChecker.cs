using System.Net.Sockets;
using System.Security.Cryptography;
using Mallard.Balancer.Configuration;
using Mallard.Balancer.Routing;

namespace Mallard.Balancer.Health;

/// <summary>
/// Probes every backend once per interval with <see cref="VersionProbe"/> and takes passive
/// signals (ICMP unreachable on relayed traffic). Consecutive failures mark a backend down and
/// consecutive probe successes mark it up; each change is reported to the control plane.
/// </summary>
internal sealed class HealthChecker : IAsyncDisposable
{
    private readonly Func<RoutingSnapshot> _snapshot;
    private readonly Action<Backend, bool, string> _changed;
    private readonly TimeProvider _time;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    public HealthChecker(Func<RoutingSnapshot> snapshot, Action<Backend, bool, string> changed, TimeProvider time)
    {
        _snapshot = snapshot;
        _changed = changed;
        _time = time;
        _loop = Task.Run(RunAsync);
    }

    private HealthCheckSettings Settings => _snapshot().Settings.Health;

    /// <summary>A passive failure seen by a forwarding thread.</summary>
    public void ReportPassiveFailure(Backend backend, string reason)
    {
        HealthCheckSettings settings = Settings;
        if (settings.Enabled && backend.Health.ReportFailure(settings.UnhealthyThreshold, reason, _time.GetUtcNow()))
        {
            _changed(backend, false, reason);
        }
    }

    /// <summary>Probes one backend now and returns whether it answered.</summary>
    public static async Task<(bool Answered, string Detail)> ProbeAsync(Backend backend, TimeSpan timeout, CancellationToken cancellation)
    {
        byte[] destination = RandomNumberGenerator.GetBytes(VersionProbe.ConnectionIdLength);
        byte[] source = RandomNumberGenerator.GetBytes(VersionProbe.ConnectionIdLength);
        byte[] packet = new byte[VersionProbe.Size];
        VersionProbe.Write(packet, (uint)RandomNumberGenerator.GetInt32(int.MaxValue), destination, source);
        byte[] response = new byte[2048];
        using var socket = new Socket(backend.Address.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        deadline.CancelAfter(timeout);
        try
        {
            await socket.ConnectAsync(backend.Address, deadline.Token).ConfigureAwait(false);
            await socket.SendAsync(packet, SocketFlags.None, deadline.Token).ConfigureAwait(false);
            while (true)
            {
                int received = await socket.ReceiveAsync(response, SocketFlags.None, deadline.Token).ConfigureAwait(false);
                if (VersionProbe.IsAnswer(response.AsSpan(0, received), destination, source))
                {
                    return (true, "answered Version Negotiation");
                }
            }
        }
        catch (OperationCanceledException) when (!cancellation.IsCancellationRequested)
        {
            return (false, $"no Version Negotiation within {timeout.TotalMilliseconds:0} ms");
        }
        catch (SocketException error)
        {
            return (false, error.SocketErrorCode == SocketError.ConnectionRefused ? "ICMP port unreachable" : error.SocketErrorCode.ToString());
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await _loop.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        _stop.Dispose();
    }

    private async Task RunAsync()
    {
        CancellationToken stop = _stop.Token;
        while (!stop.IsCancellationRequested)
        {
            RoutingSnapshot snapshot = _snapshot();
            HealthCheckSettings settings = snapshot.Settings.Health;
            if (settings.Enabled)
            {
                await Task.WhenAll(snapshot.Backends.Select(b => CheckAsync(b, settings, stop))).ConfigureAwait(false);
            }
            else
            {
                foreach (Backend backend in snapshot.Backends)
                {
                    if (backend.Health.ForceUp(_time.GetUtcNow()))
                    {
                        _changed(backend, true, "health checks are off");
                    }
                }
            }

            await Task.Delay(settings.Interval, _time, stop).ConfigureAwait(false);
        }
    }

    private async Task CheckAsync(Backend backend, HealthCheckSettings settings, CancellationToken stop)
    {
        (bool answered, string detail) = await ProbeAsync(backend, settings.Timeout, stop).ConfigureAwait(false);
        bool changed = answered
            ? backend.Health.ReportSuccess(settings.HealthyThreshold, _time.GetUtcNow())
            : backend.Health.ReportFailure(settings.UnhealthyThreshold, detail, _time.GetUtcNow());
        if (changed && !backend.IsRetired)
        {
            _changed(backend, answered, detail);
        }
    }
}
