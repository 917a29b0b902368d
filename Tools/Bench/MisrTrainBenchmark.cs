using System.Diagnostics;
using ILGpuSat.Engine;
using ILGpuSat.Engine.Optim;
using ILGpuSat.Kernels;
using ILGpuSat.Networks.Misr;

namespace ILGpuSat.Tools.Bench;

/// <summary>Medians of DeepSUM's training step (forward + loss, backward, Adam) and its live-tensor peak.</summary>
public sealed record MisrTrainBenchResult(double StepMs, double ForwardMs, double BackwardMs, double OptimizerMs, long Parameters, long PeakLiveBytes,
                                          long? PeakBytes, float LastLoss);

/// <summary>
/// One training step of the whole DeepSUM on a synthetic batch, the same as Tools/Bench/pytorch_deepsum_train.py
/// times with PyTorch: frames [B, T, 1, S, S] and masks with a cloud block in frames 1 and 2, MSE against a target
/// (the network's cost: the shift-searching loss's host search is left out on both sides), backward, Adam (lr 1e-4).
/// </summary>
public static class MisrTrainBenchmark
{
    public static MisrTrainBenchResult Run(Backend backend, DeepSumConfig config, int batch, int size, int warmup, int steps, Action<string>? status = null)
    {
        var meter = new PeakMeter(backend);
        using var net = new DeepSum(backend, 1, config);
        using var adam = new Adam(net.Parameters(), 1e-4f);
        int t = config.Frames, hw = size * size;
        var rng = new Random(5);
        var frames = Enumerable.Range(0, batch * t * hw).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        var masks = Enumerable.Repeat(1f, frames.Length).ToArray();
        for (int i = 0; i < batch; i++)
            for (int k = 1; k <= Math.Min(2, t - 1); k++)
                for (int y = size / 4; y < size / 2; y++)
                    for (int x = size / 4; x < size / 2; x++) masks[((i * t + k) * size + y) * size + x] = 0f;
        var target = Enumerable.Range(0, batch * hw).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        var fw = new List<double>();
        var bw = new List<double>();
        var opt = new List<double>();
        float loss = 0;
        for (int s = 0; s < warmup + steps; s++)
        {
            status?.Invoke(s < warmup ? $"warm-up step {s + 1}/{warmup}" : $"step {s + 1 - warmup}/{steps}");
            using var scope = new TensorScope();
            adam.ZeroGrad();
            var clock = Stopwatch.StartNew();
            var sr = net.Forward(Tensor.FromArray(frames, [batch, t, 1, size, size], backend), Tensor.FromArray(masks, [batch, t, 1, size, size], backend)).Sr;
            var l = F.MseLoss(sr, Tensor.FromArray(target, [batch, 1, size, size], backend));
            backend.Synchronize();
            double f = clock.Elapsed.TotalMilliseconds;
            clock.Restart();
            l.Backward(releaseIntermediates: true);
            backend.Synchronize();
            double b = clock.Elapsed.TotalMilliseconds;
            clock.Restart();
            adam.Step();
            loss = l.Item();
            double o = clock.Elapsed.TotalMilliseconds;
            meter.Sample();
            if (s < warmup) continue;
            fw.Add(f);
            bw.Add(b);
            opt.Add(o);
        }
        var (peak, _) = meter.Peak();
        var step = fw.Zip(bw, (a, c) => a + c).Zip(opt, (a, c) => a + c);
        return new MisrTrainBenchResult(TrainBenchmark.Median(step), TrainBenchmark.Median(fw), TrainBenchmark.Median(bw), TrainBenchmark.Median(opt), net.Parameters().Sum(p => p.Length), backend.PeakBytesInUse, peak, loss);
    }
}
