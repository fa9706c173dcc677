namespace Mallard.TestSupport;

/// <summary>
/// Where the built <c>mallard</c> command is, for tests that run it as a real process. Test
/// projects that only run it reference the CLI project with <c>ReferenceOutputAssembly="false"</c>
/// (it is built first, but none of its code is borrowed) and start it from its own output folder,
/// in the same configuration as the tests.
/// </summary>
public static class MallardProcess
{
    /// <summary>The path of <c>mallard.dll</c>, to run with <c>dotnet</c>.</summary>
    public static string Dll
    {
        get
        {
            // The tests run from tests/PROJECT/bin/CONFIGURATION/TFM/.
            var output = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
            string framework = output.Name;
            string configuration = output.Parent!.Name;
            string dll = Path.Combine(Repository.Root, "src", "Mallard.Cli", "bin", configuration, framework, "mallard.dll");
            return File.Exists(dll) ? dll : throw new FileNotFoundException($"the mallard command is not built at {dll}", dll);
        }
    }
}
