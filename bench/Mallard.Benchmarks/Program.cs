using BenchmarkDotNet.Running;
using Mallard.Benchmarks;

// dotnet run -c Release --project bench/Mallard.Benchmarks -- --filter '*'
// dotnet run -c Release --project bench/Mallard.Benchmarks -- --allocations [operations]
if (args.Length > 0 && args[0] == "--allocations")
{
    AllocationProfile.Run(args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 200_000);
    return;
}

BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
