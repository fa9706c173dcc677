namespace Mallard.Balancer.Tests;

/// <summary>Finds files of the repository from the test's output folder.</summary>
internal static class RepositoryPaths
{
    public static string Root { get; } = FindRoot();

    public static string Examples => Path.Combine(Root, "examples");

    private static string FindRoot()
    {
        for (DirectoryInfo? directory = new(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Mallard.slnx")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("Mallard.slnx not found above " + AppContext.BaseDirectory);
    }
}
