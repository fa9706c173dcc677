namespace Mallard.QuicLb;

/// <summary>
/// A QUIC-LB configuration parameter is outside the range that draft-ietf-quic-load-balancers-21
/// allows. <see cref="ArgumentException.ParamName"/> names the parameter; the message names it
/// too, together with the value given and the allowed range.
/// </summary>
public sealed class QuicLbConfigException : ArgumentException
{
    /// <summary>Creates the exception for one parameter.</summary>
    public QuicLbConfigException(string parameterName, string message)
        : base(message, parameterName)
    {
    }

    /// <summary>The message without the " (Parameter 'x')" suffix that <see cref="ArgumentException"/> appends.</summary>
    public string Reason => base.Message.Replace($" (Parameter '{ParamName}')", string.Empty, StringComparison.Ordinal);
}
