namespace Mallard.Steering;

/// <summary>The XDP program could not be found, loaded or fed; the message says what to do.</summary>
public sealed class SteeringException : Exception
{
    /// <summary>Creates the exception.</summary>
    public SteeringException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public SteeringException()
    {
    }

    /// <summary>Creates the exception with an inner one.</summary>
    public SteeringException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
