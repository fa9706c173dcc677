using System.Diagnostics;

namespace Mallard.TestSupport;

/// <summary>
/// Builds Go programs against Debian's Go and quic-go 0.29 packages (GOPATH mode, no cgo, so a
/// fresh machine needs only golang-go and golang-github-lucas-clemente-quic-go-dev). Binaries are
/// cached in the temporary directory under a name that changes with their source.
/// </summary>
public static class GoBuild
{
    public const string GoPath = "/usr/share/gocode";

    /// <summary>Builds <paramref name="target"/> (a package path, or "main.go" in <paramref name="workingDirectory"/>) into <paramref name="binary"/> unless it exists.</summary>
    public static async Task<string> BuildAsync(string target, string binary, string? workingDirectory = null)
    {
        if (File.Exists(binary))
        {
            return binary;
        }

        if (!Directory.Exists(Path.Combine(GoPath, "src/github.com/lucas-clemente/quic-go")))
        {
            throw new InvalidOperationException("quic-go is not installed: apt-get install golang-go golang-github-lucas-clemente-quic-go-dev (scripts/test.sh does this).");
        }

        Directory.CreateDirectory(Path.GetDirectoryName(binary)!);
        var start = new ProcessStartInfo("go", ["build", "-o", binary + ".tmp", target])
        {
            WorkingDirectory = workingDirectory ?? Path.GetTempPath(),
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["GO111MODULE"] = "off";
        start.Environment["GOPATH"] = GoPath;
        start.Environment["CGO_ENABLED"] = "0"; // no C compiler needed on a fresh machine
        start.Environment["GOCACHE"] = Path.Combine(Path.GetTempPath(), "mallard-gocache");
        using Process build = Process.Start(start) ?? throw new InvalidOperationException("cannot start go");
        string errors = await build.StandardError.ReadToEndAsync();
        await build.WaitForExitAsync();
        if (build.ExitCode != 0)
        {
            throw new InvalidOperationException($"go build of {target} failed: {errors}");
        }

        File.Move(binary + ".tmp", binary, overwrite: true);
        return binary;
    }
}
