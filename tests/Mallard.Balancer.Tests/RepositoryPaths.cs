using Mallard.TestSupport;

namespace Mallard.Balancer.Tests;

/// <summary>Files of the repository the balancer tests read.</summary>
internal static class RepositoryPaths
{
    public static string Root => Repository.Root;

    public static string Examples => Path.Combine(Root, "examples");
}
