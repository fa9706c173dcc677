using System.Diagnostics.CodeAnalysis;
using System.Net;
using System.Net.Sockets;
using System.Reflection;
using System.Runtime.CompilerServices;
using Mallard.Balancer.Configuration;
using Mallard.Balancer.Forwarding;
using Mallard.Balancer.Metrics;
using Mallard.Balancer.Routing;

namespace Mallard.Balancer.HandOver;

/// <summary>
/// Compiles ahead the code a hand-over runs while no process forwards: the protocol, building
/// flows and listeners from handed sockets, the forwarding threads' loops, and on the running
/// side pausing and listing. Without it the just-in-time compiler takes most of the pause
/// (about 50 ms on the machines Mallard is measured on, BENCHMARKS.md); with it, the pause is the
/// hand-over's own work. <see cref="Prepare"/> compiles methods; <see cref="Rehearse"/> runs the
/// successor's whole path once on throwaway sockets, which also compiles the generic code
/// (dictionaries keyed by value types, tuples) that preparing methods cannot reach.
/// </summary>
internal static class HandOverWarmUp
{
    private static readonly string[] Namespaces =
        ["Mallard.Balancer.HandOver", "Mallard.Balancer.Forwarding", "Mallard.Balancer.Routing", "Mallard.Balancer.Metrics"];

    private static int _done;

    /// <summary>Compiles every non-generic method of the balancer's data path and hand-over types, once per process.</summary>
    /// <remarks>
    /// A Native AOT build has nothing to compile (and keeps no metadata to find the methods by), so
    /// there it returns at once; the reflection below runs only where code is compiled at run time.
    /// </remarks>
    [UnconditionalSuppressMessage("Trimming", "IL2026", Justification = "Runs only with a JIT (RuntimeFeature.IsDynamicCodeCompiled); trimmed builds are AOT builds, which return first.")]
    [UnconditionalSuppressMessage("Trimming", "IL2075", Justification = "As above: never reached in a trimmed (Native AOT) build.")]
    public static void Prepare()
    {
        if (!RuntimeFeature.IsDynamicCodeCompiled || Interlocked.Exchange(ref _done, 1) != 0)
        {
            return;
        }

        const BindingFlags Declared = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;
        IEnumerable<Type> types = typeof(LoadBalancer).Assembly.GetTypes()
            .Where(t => t == typeof(LoadBalancer) || (t.Namespace is string name && Namespaces.Any(n => name.StartsWith(n, StringComparison.Ordinal))) || t.DeclaringType == typeof(LoadBalancer));
        foreach (Type type in types.Where(t => !t.ContainsGenericParameters))
        {
            foreach (MethodBase method in type.GetMethods(Declared).Cast<MethodBase>().Concat(type.GetConstructors(Declared)))
            {
                if (method.IsAbstract || method.ContainsGenericParameters || method.GetMethodBody() is null)
                {
                    continue;
                }

                try
                {
                    RuntimeHelpers.PrepareMethod(method.MethodHandle);
                }
                catch (Exception error) when (error is ArgumentException or NotSupportedException or TypeLoadException or BadImageFormatException)
                {
                    // A method the runtime cannot prepare ahead is compiled when first called, as usual.
                }
            }
        }
    }

    /// <summary>
    /// A hand-over in miniature, before the real one: one flow to the first configured backend
    /// written and read as the protocol carries it, adopted from a "handed" socket into a
    /// throwaway table and listener on a loopback port, listed again as a running balancer would,
    /// and closed. Nothing is sent; the real tables and counters are not touched.
    /// </summary>
    public static void Rehearse(LoadBalancer balancer, bool batched)
    {
        Backend? backend = balancer.Snapshot.Backends.FirstOrDefault();
        if (backend is null)
        {
            return;
        }

        BalancerSettings settings = balancer.Settings;
        var counters = new ProxyCounters();
        IPAddress loopback = backend.Address.AddressFamily == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Loopback : IPAddress.Loopback;
        var listenerSettings = new ListenerSettings(new IPEndPoint(loopback, 0), ReturnPathMode.PerConnection);
        var flows = new FlowTable(ReturnPathMode.PerConnection, settings.Proxy, counters, (_, _) => { }, _ => { }, () => Environment.TickCount64);
        var listening = ListenerWorker.Bind(listenerSettings.Endpoint, reusePort: OperatingSystem.IsLinux());
        var upstream = new Socket(backend.Address.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        Listener? listener = null;
        try
        {
            upstream.Connect(backend.Address);
            SocketAddress client = new IPEndPoint(loopback, 9).Serialize();
            var item = new HandedItem(listenerSettings.Endpoint.ToString()) { Client = client, Backend = backend.Address, ConnectionIds = [new ConnectionIdKey([1, 2, 3, 4, 5, 6, 7, 8])] };
            byte[] buffer = new byte[DescriptorChannel.MaxMessageSize];
            HandedItem read = HandOverProtocol.ReadSockets(buffer.AsSpan(0, HandOverProtocol.WriteSockets(buffer, [item])))[0];
            var handed = new List<(HandedItem Item, Socket Socket)> { (read, upstream) };
            var used = new HashSet<Socket>();
            List<Upstream> adopted = balancer.AdoptHanded(handed, read.Listener, listenerSettings, flows, used);
            listener = Listener.Start(listenerSettings, 1, flows, balancer.Routing, settings.Proxy.MaxDatagramSize, batched, adopted, [listening]);
            var items = new List<(HandedItem Item, Socket Socket)>();
            LoadBalancer.ListHandedItems(listener, Environment.TickCount64, items);
            listener.Workers[0].Pause();
            listener.Workers[0].WaitPaused();
        }
        catch (Exception error) when (error is SocketException or IOException or InvalidDataException)
        {
            // A rehearsal that cannot run (no route to the backend, say) only leaves code uncompiled.
        }
        finally
        {
            if (listener is null)
            {
                listening.Dispose();
                upstream.Dispose();
                flows.Dispose();
            }
            else
            {
                listener.Dispose(); // its table closes the flow and its socket
            }
        }
    }
}
