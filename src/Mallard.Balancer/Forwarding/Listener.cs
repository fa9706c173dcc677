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
    /// and one thread) and starts a thread on each; the threads relay the replies of the
    /// <paramref name="restored"/> flows (already in <paramref name="flows"/>) as of their own.
    /// With <paramref name="inherited"/> sockets (a hand-over), those are used first: every one
    /// of them, since each holds the datagrams the kernel hashed to it, and more are bound only
    /// up to <paramref name="workerCount"/>.
    /// </summary>
    public static Listener Start(ListenerSettings settings, int workerCount, FlowTable flows, RoutingState routing, int maxDatagramSize, bool batched,
        IReadOnlyList<Upstream>? restored = null, IReadOnlyList<Socket>? inherited = null)
    {
        bool reusePort = OperatingSystem.IsLinux();
        int count = reusePort ? workerCount : 1;
        var sockets = new List<Socket>(inherited ?? []);
        try
        {
            Socket first = sockets.Count > 0 ? sockets[0] : ListenerWorker.Bind(settings.Endpoint, reusePort);
            if (sockets.Count == 0)
            {
                sockets.Add(first);
            }

            var bound = (IPEndPoint)first.LocalEndPoint!;
            for (int i = sockets.Count; i < count; i++)
            {
                sockets.Add(ListenerWorker.Bind(bound, reusePort));
            }

            var listener = new Listener(settings, flows, bound);
            for (int i = 0; i < sockets.Count; i++)
            {
                listener._workers.Add(ListenerWorker.Create(sockets[i], flows, routing, $"mallard-lb {bound} #{i}", batched, maxDatagramSize));
            }

            // Flows restored from the journal are shared out before the threads start.
            for (int i = 0; i < (restored?.Count ?? 0); i++)
            {
                listener._workers[i % listener._workers.Count].Adopt(restored![i]);
            }

            foreach (ListenerWorker worker in listener._workers)
            {
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
