using Mallard.Balancer.Configuration;

namespace Mallard.Cli.Tests.Configuration;

/// <summary>Every configuration in examples/ must load: a broken example is a broken promise.</summary>
public class ExamplesTests
{
    public static TheoryData<string> ExampleFiles()
    {
        var data = new TheoryData<string>();
        foreach (string file in Directory.GetFiles(Path.Combine(CliRun.RepositoryRoot, "examples"), "*.json"))
        {
            data.Add(Path.GetFileName(file));
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(ExampleFiles))]
    public void EachExampleLoads(string fileName)
    {
        Assert.NotEmpty(QuicLbConfigLoader.LoadFile(Path.Combine(CliRun.RepositoryRoot, "examples", fileName)));
    }
}
