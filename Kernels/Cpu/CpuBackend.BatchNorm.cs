using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace ILGpuSat.Kernels.Cpu;

// Batch norm over NCHW with per-channel statistics. Each (n, c) plane is one unit of work; its
// partial sums go to a [N, C] array of doubles and are combined per channel in batch order, so the
// statistics are accurate (double accumulation) and independent of the thread count.
public sealed partial class CpuBackend
{
    public override void BatchNormTrain(DeviceBuffer x, DeviceBuffer gamma, DeviceBuffer beta, ChannelGeometry g, float eps,
        DeviceBuffer y, DeviceBuffer saveMean, DeviceBuffer saveInvStd,
        DeviceBuffer? runningMean, DeviceBuffer? runningVar, float momentum)
    {
        const string op = "batch_norm_train";
        g.Validate(op);
        using var _ = Profile(op, 5.0 * g.Length, 12.0 * g.Length + 32.0 * g.C);
        CheckLength(op, "x", x, g.Length);
        CheckLength(op, "y", y, g.Length);
        CheckChannels(op, g, ("gamma", gamma), ("beta", beta), ("saveMean", saveMean), ("saveInvStd", saveInvStd));
        if (runningMean is not null) CheckLength(op, "runningMean", runningMean, g.C);
        if (runningVar is not null) CheckLength(op, "runningVar", runningVar, g.C);
        long count = g.PerChannel;
        if (count < 2)
            throw new ArgumentException($"{op}: expected more than 1 value per channel when training, got N={g.N} HW={g.HW}.");

        var xa = HostArray(x);
        int hw = g.HW, c = g.C, planes = g.N * c;
        var pool = ArrayPool<double>.Shared;
        var s1 = pool.Rent(planes);
        var s2 = pool.Rent(planes);
        try
        {
            // Per-plane mean and M2 (robust to |mean| >> std), merged per channel in batch order.
            CpuParallel.For(Threads, planes, 2L * hw, (p0, p1) =>
            {
                for (int p = p0; p < p1; p++)
                    (s1[p], s2[p]) = SimdMath.MeanAndM2(xa, p * hw, (p + 1) * hw);
            });

            var mean = Host(saveMean);
            var invStd = Host(saveInvStd);
            var ga = Host(gamma);
            var scale = new float[c];
            Span<float> rm = runningMean is null ? default : Host(runningMean);
            Span<float> rv = runningVar is null ? default : Host(runningVar);
            for (int ch = 0; ch < c; ch++)
            {
                // Chan et al.: merging equal-sized groups of hw values.
                double m = 0, m2 = 0;
                for (int n = 0; n < g.N; n++)
                {
                    int p = n * c + ch;
                    double delta = s1[p] - m;
                    m += delta / (n + 1);
                    m2 += s2[p] + delta * delta * hw * ((double)n / (n + 1));
                }
                double var = m2 / count;
                double inv = 1.0 / Math.Sqrt(var + eps);
                mean[ch] = (float)m;
                invStd[ch] = (float)inv;
                scale[ch] = (float)(ga[ch] * inv);
                if (runningMean is not null) rm[ch] = (float)((1.0 - momentum) * rm[ch] + momentum * m);
                if (runningVar is not null) rv[ch] = (float)((1.0 - momentum) * rv[ch] + momentum * m2 / (count - 1));
            }
            NormalizePlanes(xa, HostArray(y), HostArray(saveMean), scale, HostArray(beta), g);
        }
        finally
        {
            pool.Return(s1);
            pool.Return(s2);
        }
    }

    public override void BatchNormTrainBackward(DeviceBuffer x, DeviceBuffer dy, DeviceBuffer gamma,
        DeviceBuffer saveMean, DeviceBuffer saveInvStd, ChannelGeometry g,
        DeviceBuffer dx, DeviceBuffer dgamma, DeviceBuffer dbeta)
    {
        const string op = "batch_norm_train_bwd";
        g.Validate(op);
        using var _ = Profile(op, 7.0 * g.Length, 20.0 * g.Length + 20.0 * g.C);
        CheckLength(op, "x", x, g.Length);
        CheckLength(op, "dy", dy, g.Length);
        CheckLength(op, "dx", dx, g.Length);
        CheckChannels(op, g, ("gamma", gamma), ("saveMean", saveMean), ("saveInvStd", saveInvStd), ("dgamma", dgamma), ("dbeta", dbeta));
        var xa = HostArray(x);
        var da = HostArray(dy);
        var meanA = HostArray(saveMean);
        int hw = g.HW, c = g.C, planes = g.N * c;
        var pool = ArrayPool<double>.Shared;
        var sdy = pool.Rent(planes);
        var sdyx = pool.Rent(planes);
        try
        {
            CpuParallel.For(Threads, planes, hw, (p0, p1) =>
            {
                for (int p = p0; p < p1; p++)
                    (sdy[p], sdyx[p]) = SimdMath.SumAndDot(da, xa, p * hw, (p + 1) * hw, meanA[p % c]);
            });

            // dx = gamma*invstd * (dy - mean(dy) - xhat * mean(dy*xhat)) = a*dy + b*(x - mean) + k.
            var invStd = Host(saveInvStd);
            var ga = Host(gamma);
            var dgA = Host(dgamma);
            var dbA = Host(dbeta);
            var coef = new float[3 * c];
            double count = g.PerChannel;
            for (int ch = 0; ch < c; ch++)
            {
                double inv = invStd[ch];
                double sumDy = SumOverBatch(sdy, g, ch);
                double sumDyXhat = SumOverBatch(sdyx, g, ch) * inv;
                dbA[ch] = (float)sumDy;
                dgA[ch] = (float)sumDyXhat;
                double a = ga[ch] * inv;
                coef[3 * ch] = (float)a;
                coef[3 * ch + 1] = (float)(-a * inv * sumDyXhat / count);
                coef[3 * ch + 2] = (float)(-a * sumDy / count);
            }
            var ga2 = HostArray(dx);
            CpuParallel.ForPlaneSegments(Threads, planes, hw, (s, e, p) =>
            {
                int ch = p % c;
                AffineGradPlane(xa, da, ga2, meanA[ch], coef[3 * ch], coef[3 * ch + 1], coef[3 * ch + 2], s, e);
            });
        }
        finally
        {
            pool.Return(sdy);
            pool.Return(sdyx);
        }
    }

    public override void BatchNormEval(DeviceBuffer x, DeviceBuffer gamma, DeviceBuffer beta,
        DeviceBuffer runningMean, DeviceBuffer runningVar, ChannelGeometry g, float eps, DeviceBuffer y)
    {
        const string op = "batch_norm_eval";
        g.Validate(op);
        using var _ = Profile(op, 2.0 * g.Length, 8.0 * g.Length + 16.0 * g.C);
        CheckLength(op, "x", x, g.Length);
        CheckLength(op, "y", y, g.Length);
        CheckChannels(op, g, ("gamma", gamma), ("beta", beta), ("runningMean", runningMean), ("runningVar", runningVar));
        var ga = Host(gamma);
        var rv = Host(runningVar);
        var scale = new float[g.C];
        for (int ch = 0; ch < g.C; ch++) scale[ch] = (float)(ga[ch] / Math.Sqrt((double)rv[ch] + eps));
        NormalizePlanes(HostArray(x), HostArray(y), HostArray(runningMean), scale, HostArray(beta), g);
    }

    public override void BatchNormEvalBackward(DeviceBuffer x, DeviceBuffer dy, DeviceBuffer gamma,
        DeviceBuffer runningMean, DeviceBuffer runningVar, ChannelGeometry g, float eps,
        DeviceBuffer dx, DeviceBuffer dgamma, DeviceBuffer dbeta)
    {
        const string op = "batch_norm_eval_bwd";
        g.Validate(op);
        using var _ = Profile(op, 5.0 * g.Length, 12.0 * g.Length + 20.0 * g.C);
        CheckLength(op, "x", x, g.Length);
        CheckLength(op, "dy", dy, g.Length);
        CheckLength(op, "dx", dx, g.Length);
        CheckChannels(op, g, ("gamma", gamma), ("runningMean", runningMean), ("runningVar", runningVar), ("dgamma", dgamma), ("dbeta", dbeta));
        var xa = HostArray(x);
        var da = HostArray(dy);
        var ga = HostArray(dx);
        var meanA = HostArray(runningMean);
        var gam = Host(gamma);
        var rv = Host(runningVar);
        int hw = g.HW, c = g.C, planes = g.N * c;
        var inv = new float[c];
        var a = new float[c];
        for (int ch = 0; ch < c; ch++)
        {
            double s = 1.0 / Math.Sqrt((double)rv[ch] + eps);
            inv[ch] = (float)s;
            a[ch] = (float)(gam[ch] * s);
        }
        var pool = ArrayPool<double>.Shared;
        var sdy = pool.Rent(planes);
        var sdyx = pool.Rent(planes);
        try
        {
            // One fused pass: dx = gamma*invstd*dy while the plane is in cache, plus the sums for dgamma/dbeta.
            CpuParallel.For(Threads, planes, hw, (p0, p1) =>
            {
                for (int p = p0; p < p1; p++)
                {
                    int ch = p % c;
                    (sdy[p], sdyx[p]) = SimdMath.SumAndDot(da, xa, p * hw, (p + 1) * hw, meanA[ch]);
                    SimdMath.Map(new ScaleOp(a[ch]), da, ga, p * hw, (p + 1) * hw);
                }
            });
            var dgA = Host(dgamma);
            var dbA = Host(dbeta);
            for (int ch = 0; ch < c; ch++)
            {
                dbA[ch] = (float)SumOverBatch(sdy, g, ch);
                dgA[ch] = (float)(SumOverBatch(sdyx, g, ch) * inv[ch]);
            }
        }
        finally
        {
            pool.Return(sdy);
            pool.Return(sdyx);
        }
    }

    /// <summary>Each per-channel buffer (gamma, beta, statistics, their gradients) must hold C floats.</summary>
    private static void CheckChannels(string op, ChannelGeometry g, params ReadOnlySpan<(string Name, DeviceBuffer Buffer)> buffers)
    {
        foreach (var (name, b) in buffers) CheckLength(op, name, b, g.C);
    }

    /// <summary>y = (x - mean[c]) * scale[c] + beta[c] over every plane.</summary>
    private void NormalizePlanes(float[] x, float[] y, float[] mean, float[] scale, float[] beta, ChannelGeometry g)
    {
        int hw = g.HW, c = g.C;
        CpuParallel.ForPlaneSegments(Threads, g.N * c, hw, (s, e, p) =>
        {
            int ch = p % c;
            SimdMath.Map(new NormalizeOp(mean[ch], scale[ch], beta[ch]), x, y, s, e);
        });
    }

    /// <summary>dx = a*dy + b*(x - mean) + k over [start, end).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot loop: skip the slow tier-0 first calls
    private static void AffineGradPlane(float[] x, float[] dy, float[] dx, float mean, float a, float b, float k, int start, int end)
    {
        ref float rx = ref SimdMath.At(x);
        ref float rd = ref SimdMath.At(dy);
        ref float rg = ref SimdMath.At(dx);
        var vm = Vector512.Create(mean);
        var va = Vector512.Create(a);
        var vb = Vector512.Create(b);
        var vk = Vector512.Create(k);
        int i = start;
        if (!Vector512.IsHardwareAccelerated && Vector256.IsHardwareAccelerated)
        {
            var (vm8, va8, vb8, vk8) = (Vector256.Create(mean), Vector256.Create(a), Vector256.Create(b), Vector256.Create(k));
            for (; i <= end - 8; i += 8)
            {
                var t = Vector256.FusedMultiplyAdd(vb8, Vector256.LoadUnsafe(ref rx, (nuint)i) - vm8, vk8);
                Vector256.FusedMultiplyAdd(va8, Vector256.LoadUnsafe(ref rd, (nuint)i), t).StoreUnsafe(ref rg, (nuint)i);
            }
        }
        for (; i <= end - SimdMath.W; i += SimdMath.W)
        {
            var t = Vector512.FusedMultiplyAdd(vb, SimdMath.Load(ref rx, i) - vm, vk);
            SimdMath.Store(Vector512.FusedMultiplyAdd(va, SimdMath.Load(ref rd, i), t), ref rg, i);
        }
        for (; i < end; i++)
            Unsafe.Add(ref rg, i) = MathF.FusedMultiplyAdd(a, Unsafe.Add(ref rd, i), MathF.FusedMultiplyAdd(b, Unsafe.Add(ref rx, i) - mean, k));
    }

    private readonly struct NormalizeOp(float mean, float scale, float beta) : IUnaryMap
    {
        private readonly Vector512<float> _m = Vector512.Create(mean), _s = Vector512.Create(scale), _b = Vector512.Create(beta);
        public Vector512<float> Apply(Vector512<float> x) => Vector512.FusedMultiplyAdd(x - _m, _s, _b);
        public Vector256<float> Apply(Vector256<float> x) => Vector256.FusedMultiplyAdd(x - Vector256.Create(mean), Vector256.Create(scale), Vector256.Create(beta));
        public float Apply(float x) => MathF.FusedMultiplyAdd(x - mean, scale, beta);
    }
}
