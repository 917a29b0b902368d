using System.Diagnostics;
using ILGpuSat.Kernels;

namespace ILGpuSat.Tools.Bench;

/// <summary>One timed benchmark row: an op at a realistic size, forward or forward+backward.</summary>
public sealed record BenchRow(string Name, double MedianMs, double Flops, double Bytes)
{
    public double GFlops => Flops > 0 ? Flops / (MedianMs * 1e6) : 0;
    public double GBps => Bytes > 0 ? Bytes / (MedianMs * 1e6) : 0;
}

/// <summary>
/// The `bench ops` cases, run straight on a backend's kernels (forward, then forward plus the
/// backward kernels the autograd would launch). Row names match Tools/Bench/pytorch_ops.py.
/// </summary>
public static class OpBenchmarks
{
    private sealed record Case(string Name, double Flops, double Bytes, Action Run);

    /// <param name="only">When set, only the rows whose name contains it are timed (quick re-measurements).</param>
    public static List<BenchRow> Run(Backend backend, int batch, int size, double budgetSeconds, Action<string>? progress = null,
        string? only = null)
    {
        var rng = new Random(0);
        var owned = new List<DeviceBuffer>();
        DeviceBuffer Rand(long n)
        {
            var host = new float[n];
            for (long i = 0; i < n; i++) host[i] = (float)(rng.NextDouble() * 2 - 1);
            var b = backend.Allocate(n);
            backend.Upload(host, b);
            owned.Add(b);
            return b;
        }
        DeviceBuffer Softmaxed(ChannelGeometry g)
        {
            var b = Rand(g.Length);
            backend.Softmax(b, g, b);
            return b;
        }

        try
        {
            var cases = new List<Case>();
            int n = batch, s = size, q = size / 4;

            void Conv(string name, Conv2dGeometry g)
            {
                var x = Rand(g.InputLength); var w = Rand(g.WeightLength); var b = Rand(g.OutC);
                var y = Rand(g.OutputLength); var dy = Rand(g.OutputLength);
                var dx = Rand(g.InputLength); var dw = Rand(g.WeightLength); var db = Rand(g.OutC);
                // Convolutions are compute-bound: GFLOP/s is their figure, so no byte count.
                cases.Add(new Case(name + " fwd", g.Flops, 0, () => backend.Conv2d(x, w, b, g, y)));
                cases.Add(new Case(name + " fwd+bwd", 3 * g.Flops, 0, () =>
                {
                    backend.Conv2d(x, w, b, g, y);
                    backend.Conv2dBackwardData(dy, w, g, dx);
                    backend.Conv2dBackwardWeight(x, dy, g, dw, db);
                }));
            }

            // A transposed convolution is the data gradient of the convolution ForTranspose describes:
            // its forward is Conv2dBackwardData, its backward Conv2d (input grad) and Conv2dBackwardWeight.
            void ConvTranspose(string name, int cin, int h, int cout, int k, int stride, int pad)
            {
                var g = Conv2dGeometry.ForTranspose(n, cin, h, h, cout, k, k, stride, stride, pad, pad);
                var ct = new ChannelGeometry(n, g.InC, g.InH * g.InW);
                var x = Rand(g.OutputLength); var w = Rand(g.WeightLength); var b = Rand(g.InC);
                var y = Rand(g.InputLength); var dy = Rand(g.InputLength);
                var dx = Rand(g.OutputLength); var dw = Rand(g.WeightLength); var db = Rand(g.InC);
                cases.Add(new Case(name + " fwd", g.Flops, 0, () =>
                {
                    backend.Conv2dBackwardData(x, w, g, y);
                    backend.AddChannelBias(y, b, ct, y);
                }));
                cases.Add(new Case(name + " fwd+bwd", 3 * g.Flops, 0, () =>
                {
                    backend.Conv2dBackwardData(x, w, g, y);
                    backend.AddChannelBias(y, b, ct, y);
                    backend.Conv2d(dy, w, null, g, dx);
                    backend.Conv2dBackwardWeight(dy, x, g, dw, null);
                    backend.ChannelSum(dy, ct, db);
                }));
            }

            Conv($"conv2d 3x3 64->64 {n}x64x{s}x{s}", new Conv2dGeometry(n, 64, s, s, 64, 3, 3, PadH: 1, PadW: 1));
            ConvTranspose($"conv_transpose2d 3x3 s1 64->64 {n}x64x{s}x{s}", 64, s, 64, 3, 1, 1);
            ConvTranspose($"conv_transpose2d 4x4 s2 256->64 {n}x256x{q}x{q}", 256, q, 64, 4, 2, 1);

            {
                var g = new ChannelGeometry(n, 64, s * s);
                var x = Rand(g.Length); var gamma = Rand(64); var beta = Rand(64); var y = Rand(g.Length);
                var mean = Rand(64); var inv = Rand(64); var rm = Rand(64); var rv = Rand(64);
                var dy = Rand(g.Length); var dx = Rand(g.Length); var dgamma = Rand(64); var dbeta = Rand(64);
                backend.Fill(rv, 1);
                string name = $"batch_norm train {n}x64x{s}x{s}";
                // Forward reads x twice (statistics, normalise) and writes y; backward reads x and dy twice, writes dx.
                cases.Add(new Case(name + " fwd", 0, 4.0 * 3 * g.Length, () =>
                    backend.BatchNormTrain(x, gamma, beta, g, 1e-5f, y, mean, inv, rm, rv, 0.1f)));
                cases.Add(new Case(name + " fwd+bwd", 0, 4.0 * 8 * g.Length, () =>
                {
                    backend.BatchNormTrain(x, gamma, beta, g, 1e-5f, y, mean, inv, rm, rv, 0.1f);
                    backend.BatchNormTrainBackward(x, dy, gamma, mean, inv, g, dx, dgamma, dbeta);
                }));

                var pw = Rand(64); var dpw = Rand(64);
                name = $"prelu per-channel {n}x64x{s}x{s}";
                cases.Add(new Case(name + " fwd", 0, 4.0 * 2 * g.Length, () => backend.PRelu(x, pw, g, y)));
                cases.Add(new Case(name + " fwd+bwd", 0, 4.0 * 5 * g.Length, () =>
                {
                    backend.PRelu(x, pw, g, y);
                    backend.PReluBackward(x, pw, dy, g, dx, dpw);
                }));
            }

            {
                var g = new ChannelGeometry(n, 313, q * q);
                var logits = Rand(g.Length); var z = Softmaxed(g); var wpix = Rand((long)n * q * q);
                var loss = Rand(1); var dloss = Rand(1); var dlogits = Rand(g.Length);
                backend.Fill(dloss, 1);
                string name = $"softmax_ce 313 classes {n}x313x{q}x{q}";
                cases.Add(new Case(name + " fwd", 0, 4.0 * 2 * g.Length, () =>
                    backend.SoftmaxCrossEntropy(logits, z, wpix, g, loss)));
                cases.Add(new Case(name + " fwd+bwd", 0, 4.0 * 5 * g.Length, () =>
                {
                    backend.SoftmaxCrossEntropy(logits, z, wpix, g, loss);
                    backend.SoftmaxCrossEntropyBackward(logits, z, wpix, g, dloss, dlogits);
                }));
            }

            var rows = new List<BenchRow>();
            foreach (var c in cases)
            {
                if (only is not null && !c.Name.Contains(only, StringComparison.Ordinal)) continue;
                progress?.Invoke(c.Name);
                rows.Add(new BenchRow(c.Name, MedianMs(backend, c.Run, budgetSeconds), c.Flops, c.Bytes));
            }
            return rows;
        }
        finally
        {
            foreach (var b in owned) b.Dispose();
        }
    }

    /// <summary>
    /// Median wall time of one call: warm-up calls first (at least 3, and for a fifth of the budget, so
    /// the JIT's tiered recompilation and the buffer pools have settled), then at least 5 timed runs,
    /// more while the budget lasts.
    /// </summary>
    public static double MedianMs(Backend backend, Action run, double budgetSeconds)
    {
        var warm = Stopwatch.StartNew();
        for (int i = 0; i < 3 || warm.Elapsed.TotalSeconds < budgetSeconds / 5; i++) run();
        backend.Synchronize();
        var times = new List<double>();
        var total = Stopwatch.StartNew();
        while (times.Count < 5 || (total.Elapsed.TotalSeconds < budgetSeconds && times.Count < 200))
        {
            long t0 = Stopwatch.GetTimestamp();
            run();
            backend.Synchronize();
            times.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
        }
        times.Sort();
        int m = times.Count / 2;
        return times.Count % 2 == 1 ? times[m] : 0.5 * (times[m - 1] + times[m]);
    }
}
