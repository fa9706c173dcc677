namespace Mallard.Balancer.HandOver;

/// <summary>A running balancer refused to hand over its sockets (it keeps forwarding); the message says why.</summary>
public sealed class HandOverRefusedException : Exception
{
    /// <summary>Creates the exception with the running balancer's reason.</summary>
    public HandOverRefusedException(string reason)
        : base($"the running balancer refused the hand-over: {reason}")
    {
    }

    /// <summary>Creates the exception.</summary>
    public HandOverRefusedException()
    {
    }

    /// <summary>Creates the exception with an inner one.</summary>
    public HandOverRefusedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
