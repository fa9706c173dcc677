namespace Mallard.Balancer.Configuration;

/// <summary>
/// A configuration file or value is invalid. The message starts with the configuration path of
/// the offending field (for example <c>Mallard:Balancer:Configs:1:NonceLength</c>).
/// </summary>
public sealed class MallardConfigException : Exception
{
    /// <summary>Creates the exception for the field at <paramref name="path"/>.</summary>
    public MallardConfigException(string path, string problem, Exception? inner = null)
        : base($"{path}: {problem}", inner)
    {
        Path = path;
    }

    /// <summary>The configuration path of the offending field.</summary>
    public string Path { get; }
}
