namespace Mallard.QuicLb.Tests;

/// <summary>Finds ../shared/vectors, which sits beside the repository in development and CI.</summary>
internal static class SharedVectors
{
    public static string Path(string fileName)
    {
        for (DirectoryInfo? directory = new(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            string candidate = System.IO.Path.Combine(directory.FullName, "shared", "vectors", fileName);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new FileNotFoundException($"shared/vectors/{fileName} was not found beside the repository.");
    }
}
