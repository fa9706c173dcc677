using BenchmarkDotNet.Running;
using Mallard.Benchmarks;

// dotnet run -c Release --project bench/Mallard.Benchmarks -- --filter '*'
// dotnet run -c Release --project bench/Mallard.Benchmarks -- --allocations [operations]
// dotnet run -c Release --project bench/Mallard.Benchmarks -- --steering [runs]   (root: loads the XDP program)
if (args.Length > 0 && args[0] == "--steering")
{
    SteeringCost.Run(args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 1_000_000);
    return;
}

if (args.Length > 0 && args[0] == "--allocations")
{
    AllocationProfile.Run(args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 200_000);
    return;
}

BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
