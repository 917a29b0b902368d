using ILGpuSat.Kernels;
using ILGpuSat.Networks;

namespace ILGpuSat.Tools.Bench;

/// <summary>Medians over the timed steps of one model's training step (the whole step, and each phase), and its peak memory.</summary>
public sealed record TrainBenchResult(string Model, string ConfigJson, int Batch, int Size, string Device, long Parameters,
    double StepMs, StepTimes Median, long? PeakBytes, string PeakKind, long PeakLiveBytes, float LastLoss);

/// <summary>
/// Times <see cref="SyntheticTrainingStep"/>: warm-up steps first (kernel compilation, pools), then the
/// median of each phase over the timed steps. Peak memory is measured the way PyTorch's side measures its
/// own (Tools/Bench/pytorch_train.py): on the CPU the growth of the process's peak resident set over
/// model construction and the steps; on CUDA the device memory the pool holds at its largest. The live
/// tensor peak (Backend.PeakBytesInUse, PyTorch's max_memory_allocated) is reported beside it.
/// </summary>
public static class TrainBenchmark
{
    public static TrainBenchResult Run(Backend backend, string model, ModelConfig? config, int batch, int size, int warmup, int steps,
        Action<string>? status = null)
    {
        var meter = new PeakMeter(backend);
        using var step = new SyntheticTrainingStep(backend, model, config, batch, size);
        var times = new List<StepTimes>();
        float loss = 0;
        for (int i = 0; i < warmup + steps; i++)
        {
            status?.Invoke(i < warmup ? $"warm-up step {i + 1}/{warmup}" : $"step {i + 1 - warmup}/{steps}");
            var (value, t) = step.Run();
            loss = value;
            if (i >= warmup) times.Add(t);
            meter.Sample();
        }
        var median = new StepTimes(Median(times.Select(t => t.DataMs)), Median(times.Select(t => t.ForwardMs)),
                                   Median(times.Select(t => t.BackwardMs)), Median(times.Select(t => t.OptimizerMs)));
        var (peak, kind) = meter.Peak();
        return new TrainBenchResult(model, ModelCatalog.ConfigJson(step.Config), batch, size, backend.Name, step.ParameterCount,
                                    Median(times.Select(t => t.StepMs)), median, peak, kind, backend.PeakBytesInUse, loss);
    }

    internal static double Median(IEnumerable<double> values)
    {
        var a = values.OrderBy(v => v).ToArray();
        if (a.Length == 0) return double.NaN;
        return a.Length % 2 == 1 ? a[a.Length / 2] : 0.5 * (a[a.Length / 2 - 1] + a[a.Length / 2]);
    }
}
