using BenchmarkDotNet.Running;

// dotnet run -c Release --project bench/Mallard.Benchmarks -- --filter '*'
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
