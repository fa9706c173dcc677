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
        string path = Path.Combine(CliRun.RepositoryRoot, "examples", fileName);
        Assert.NotEmpty(QuicLbConfigLoader.LoadFile(path));
        if (File.ReadAllText(path).Contains("\"Steering\"", StringComparison.Ordinal))
        {
            Assert.Equal("eth0", Mallard.Steering.SteeringConfigLoader.LoadFile(path).Interface); // mallard steer's file
        }
    }
}
