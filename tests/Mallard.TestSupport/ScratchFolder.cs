namespace Mallard.TestSupport;

/// <summary>
/// One temporary folder per test process for the files tests write (configurations mostly),
/// removed when the process exits, so that a run leaves nothing behind.
/// </summary>
public static class ScratchFolder
{
    private static readonly Lazy<string> Folder = new(() =>
    {
        string folder = Directory.CreateTempSubdirectory("mallard-tests-").FullName;
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try
            {
                Directory.Delete(folder, recursive: true);
            }
            catch (IOException)
            {
                // A file still open by a child process; the folder is in the temporary area anyway.
            }
        };
        return folder;
    });

    /// <summary>A path for a new file in the folder: <paramref name="prefix"/>, a unique part and <paramref name="extension"/>.</summary>
    public static string NewFile(string prefix, string extension = ".json") =>
        Path.Combine(Folder.Value, $"{prefix}-{Guid.NewGuid():N}{extension}");
}
