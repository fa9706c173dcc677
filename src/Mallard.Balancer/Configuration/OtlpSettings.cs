namespace Mallard.Balancer.Configuration;

/// <summary>Export of the <c>Mallard.Balancer</c> meter to an OpenTelemetry collector over OTLP.</summary>
/// <param name="Endpoint">The collector's base address (http or https).</param>
/// <param name="Grpc">OTLP over gRPC; otherwise OTLP over HTTP with protobuf bodies, posted to <c>/v1/metrics</c>.</param>
/// <param name="Interval">Time between exports.</param>
public sealed record OtlpSettings(Uri Endpoint, bool Grpc, TimeSpan Interval);
