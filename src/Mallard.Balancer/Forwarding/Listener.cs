using System.Net;
using System.Net.Sockets;
using Mallard.Balancer.Configuration;
using Mallard.Balancer.Routing;

namespace Mallard.Balancer.Forwarding;

/// <summary>One listening address: its forwarding threads and its flows.</summary>
internal sealed class Listener : IDisposable
{
    private readonly List<ListenerWorker> _workers = [];

    private Listener(ListenerSettings settings, FlowTable flows, IPEndPoint bound)
    {
        Settings = settings;
        Flows = flows;
        Endpoint = bound;
    }

    public ListenerSettings Settings { get; }

    public FlowTable Flows { get; }

    /// <summary>The bound address (the real port when the configured one was 0).</summary>
    public IPEndPoint Endpoint { get; }

    public IReadOnlyList<ListenerWorker> Workers => _workers;

    /// <summary>
    /// Binds <paramref name="workerCount"/> sockets (SO_REUSEPORT on Linux; elsewhere one socket
    /// and one thread) and starts a thread on each.
    /// </summary>
    public static Listener Start(ListenerSettings settings, int workerCount, FlowTable flows, RoutingState routing, int maxDatagramSize, bool batched)
    {
        bool reusePort = OperatingSystem.IsLinux();
        int count = reusePort ? workerCount : 1;
        var sockets = new List<Socket>();
        try
        {
            Socket first = ListenerWorker.Bind(settings.Endpoint, reusePort);
            sockets.Add(first);
            var bound = (IPEndPoint)first.LocalEndPoint!;
            for (int i = 1; i < count; i++)
            {
                sockets.Add(ListenerWorker.Bind(bound, reusePort));
            }

            var listener = new Listener(settings, flows, bound);
            for (int i = 0; i < sockets.Count; i++)
            {
                var worker = ListenerWorker.Create(sockets[i], flows, routing, $"mallard-lb {bound} #{i}", batched, maxDatagramSize);
                listener._workers.Add(worker);
                worker.Start();
            }

            return listener;
        }
        catch
        {
            sockets.ForEach(s => s.Dispose());
            throw;
        }
    }

    public void Dispose()
    {
        foreach (ListenerWorker worker in _workers)
        {
            worker.Dispose();
        }

        Flows.Dispose();
    }
}
