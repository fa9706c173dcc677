using System.Runtime.InteropServices;

namespace Mallard.Balancer.Routing;

/// <summary>The (4-tuple, source connection ID) key of draft-21's long-header table.</summary>
[StructLayout(LayoutKind.Auto)]
internal readonly record struct SourceConnectionIdKey(EndpointKey Client, ConnectionIdKey SourceConnectionId);
