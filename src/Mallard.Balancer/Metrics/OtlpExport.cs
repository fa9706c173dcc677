using Mallard.Balancer.Configuration;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;

namespace Mallard.Balancer.Metrics;

/// <summary>
/// Sends the balancer's meter to an OpenTelemetry collector over OTLP, beside the Prometheus text
/// at <c>/metrics</c> (the same instruments, names and tags), for operators who collect that way.
/// </summary>
internal static class OtlpExport
{
    /// <summary>Starts a periodic export of <paramref name="meterName"/>; dispose the provider to send the last figures and stop.</summary>
    public static MeterProvider Start(OtlpSettings settings, string meterName) =>
        Sdk.CreateMeterProviderBuilder()
            .AddMeter(meterName)
            .AddOtlpExporter((exporter, reader) =>
            {
                exporter.Protocol = settings.Grpc ? OtlpExportProtocol.Grpc : OtlpExportProtocol.HttpProtobuf;

                // Set in code, the endpoint is used as written: over HTTP it must name the signal's path.
                exporter.Endpoint = settings.Grpc ? settings.Endpoint : new Uri(settings.Endpoint.AbsoluteUri.TrimEnd('/') + "/v1/metrics");
                reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = (int)settings.Interval.TotalMilliseconds;
                reader.TemporalityPreference = MetricReaderTemporalityPreference.Cumulative;
            })
            .Build();
}
