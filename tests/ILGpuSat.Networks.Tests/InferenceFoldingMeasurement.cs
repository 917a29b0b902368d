using System.Diagnostics;
using ILGpuSat.Engine;
using ILGpuSat.Engine.Modules;
using ILGpuSat.Kernels.Cpu;
using NUnit.Framework;

namespace ILGpuSat.Networks.Tests;

/// <summary>
/// The measurement behind docs/inference.md (explicit: it takes tens of seconds and its figures depend on
/// the machine): liu2018 at trunkWidth = srWidth = 0.25 on one 400x400 input, eval forward unfolded vs
/// folded on the CPU, median of a few runs after a warm-up. Run with
/// <c>dotnet test tests/ILGpuSat.Networks.Tests -c Release --filter Name~FoldedVersusUnfoldedCpuForward</c>.
/// </summary>
[TestFixture]
[Explicit("a measurement, not a test: prints timings")]
public class InferenceFoldingMeasurement
{
    [Test]
    public void FoldedVersusUnfoldedCpuForward()
    {
        int threads = int.TryParse(Environment.GetEnvironmentVariable("ILGPUSAT_THREADS"), out int t) ? t : Environment.ProcessorCount;
        using var cpu = new CpuBackend { Threads = threads };
        using var net = ModelCatalog.Create("liu2018", new LayerFactory(cpu, 1), new Liu2018Config(0.25, 0.25));
        net.Eval();
        using var folded = InferenceFolding.FoldForInference(net);
        var rng = new Random(2);
        using var scope = new TensorScope();
        var x = Tensor.FromArray(Enumerable.Range(0, 400 * 400).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray(), [1, 1, 400, 400], cpu);
        using var _ = Autograd.NoGrad();

        // Alternating runs, so that load from other processes falls on both about equally.
        var times = new List<double>[] { new(), new() };
        var peaks = new long[2];
        var nets = new SatNetwork[] { net, folded };
        for (int i = 0; i < 7; i++)
            for (int which = 0; which < 2; which++)
            {
                using var inner = new TensorScope();
                cpu.ResetPeakBytesInUse();
                long start = Stopwatch.GetTimestamp();
                nets[which].Forward(x);
                if (i > 0) times[which].Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
                peaks[which] = Math.Max(peaks[which], cpu.PeakBytesInUse);
            }
        double Median(List<double> v) { v.Sort(); return v[v.Count / 2]; }
        double unfolded = Median(times[0]), fused = Median(times[1]);
        TestContext.Out.WriteLine($"liu2018 0.25/0.25, 1x1x400x400, cpu, {threads} threads: unfolded {unfolded:F0} ms (peak {peaks[0] / 1048576.0:F0} MiB), " +
                                  $"folded {fused:F0} ms (peak {peaks[1] / 1048576.0:F0} MiB), speedup {unfolded / fused:F2}x; min {times[0].Min():F0} vs {times[1].Min():F0} ms");

        // Where the time goes, per kernel, one run each.
        foreach (var (label, n) in new[] { ("unfolded", net), ("folded", folded) })
        {
            var profiler = new ILGpuSat.Kernels.KernelProfiler();
            cpu.Profiler = profiler;
            using (new TensorScope()) n.Forward(x);
            cpu.Profiler = null;
            var byKernel = profiler.Launches.GroupBy(l => l.Kernel).Select(g => $"{g.Key} {g.Sum(l => l.DurationUs) / 1000:F0} ms x{g.Count()}");
            TestContext.Out.WriteLine($"  {label}: " + string.Join(", ", byKernel));
        }
    }
}
