namespace Mallard.Balancer.Configuration;

/// <summary><c>Mallard:Balancer:Otlp</c> as written, before validation.</summary>
public sealed class OtlpOptions
{
    /// <summary>The collector's base address, for example <c>http://127.0.0.1:4318</c>; absent: no export.</summary>
    public string? Endpoint { get; set; }

    /// <summary><c>http/protobuf</c> (default, port 4318 by convention) or <c>grpc</c> (port 4317).</summary>
    public string? Protocol { get; set; }

    /// <summary>Time between exports; default 30 s.</summary>
    public TimeSpan? Interval { get; set; }
}
