using System.Globalization;
using System.Text;

namespace Mallard.Balancer.Metrics;

/// <summary>Writes metric families in the Prometheus text exposition format, version 0.0.4.</summary>
internal static class PrometheusTextWriter
{
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    public static string Write(IEnumerable<MetricFamily> families)
    {
        var text = new StringBuilder();
        foreach (MetricFamily family in families)
        {
            string name = family.Name.Replace('.', '_') + (family.IsCounter ? "_total" : string.Empty);
            text.Append(CultureInfo.InvariantCulture, $"# HELP {name} {family.Help}\n");
            text.Append(CultureInfo.InvariantCulture, $"# TYPE {name} {(family.IsCounter ? "counter" : "gauge")}\n");
            foreach ((KeyValuePair<string, object?>[] tags, long value) in family.Read())
            {
                text.Append(name);
                if (tags.Length > 0)
                {
                    text.Append('{');
                    for (int i = 0; i < tags.Length; i++)
                    {
                        text.Append(i == 0 ? string.Empty : ",").Append(tags[i].Key).Append("=\"").Append(Escape(Convert.ToString(tags[i].Value, CultureInfo.InvariantCulture))).Append('"');
                    }

                    text.Append('}');
                }

                text.Append(' ').Append(value.ToString(CultureInfo.InvariantCulture)).Append('\n');
            }
        }

        return text.ToString();
    }

    private static string Escape(string? value) =>
        (value ?? string.Empty).Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);
}
