using Mallard.Balancer.Configuration;
using Microsoft.Extensions.Logging.Abstractions;

namespace Mallard.Balancer.Tests.TestSupport;

/// <summary>Starts balancers for tests and waits for conditions without fixed sleeps.</summary>
internal static class RunningBalancer
{
    public static Task<LoadBalancer> StartAsync(BalancerSettings settings) =>
        LoadBalancer.StartAsync(settings, NullLoggerFactory.Instance);

    /// <summary>Starts with the data path on <paramref name="clock"/> (virtual time for the flow rules).</summary>
    public static Task<LoadBalancer> StartAsync(BalancerSettings settings, TimeProvider clock) =>
        LoadBalancer.StartAsync(settings, NullLoggerFactory.Instance, clock);

    /// <summary>Starts with the chosen data plane: Linux batched I/O, or the portable .NET sockets one.</summary>
    public static Task<LoadBalancer> StartAsync(BalancerSettings settings, bool batched) =>
        LoadBalancer.StartAsync(settings, NullLoggerFactory.Instance, batched);

    /// <summary>Polls <paramref name="condition"/> until it holds or <paramref name="timeoutMilliseconds"/> pass.</summary>
    public static async Task<bool> EventuallyAsync(Func<bool> condition, int timeoutMilliseconds = 15_000)
    {
        long deadline = Environment.TickCount64 + timeoutMilliseconds;
        while (Environment.TickCount64 < deadline)
        {
            if (condition())
            {
                return true;
            }

            await Task.Delay(20);
        }

        return condition();
    }
}
