namespace Mallard.TestSupport;

/// <summary>The repository the tests run from, found above their output folder.</summary>
public static class Repository
{
    /// <summary>The folder that holds Mallard.slnx.</summary>
    public static string Root { get; } = FindRoot();

    private static string FindRoot()
    {
        for (DirectoryInfo? directory = new(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Mallard.slnx")))
            {
                return directory.FullName;
            }
        }

        throw new DirectoryNotFoundException("Mallard.slnx not found above " + AppContext.BaseDirectory);
    }
}
