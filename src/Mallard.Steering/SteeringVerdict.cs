namespace Mallard.Steering;

/// <summary>
/// What <see cref="SteeringRules.Judge"/> decided about one frame: the branch, the owner when the
/// branch is <see cref="SteeringBranch.Own"/> or <see cref="SteeringBranch.Steered"/>, and where
/// the destination connection ID lies in the frame (for learning it).
/// </summary>
internal readonly record struct SteeringVerdict(SteeringBranch Branch, SteeringTarget Target, int ConnectionIdOffset, int ConnectionIdLength, bool Encrypted)
{
    public static SteeringVerdict Pass(SteeringBranch branch) => new(branch, default, 0, 0, false);
}
