using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace ILGpuSat.Kernels.Cpu;

// Mean-reduced losses: MSE and the fused soft-target softmax cross-entropy (the colorization loss).
public sealed partial class CpuBackend
{
    public override void MseLoss(DeviceBuffer pred, DeviceBuffer target, DeviceBuffer loss)
    {
        const string op = "mse_loss";
        int n = (int)pred.Length;
        using var _ = Profile(op, 3.0 * n, 8.0 * n + 4);
        CheckLength(op, "target", target, n);
        CheckLength(op, "loss", loss, 1);
        if (n == 0) throw new ArgumentException($"{op}: the prediction is empty (the mean is undefined).");
        var pa = HostArray(pred);
        var ta = HostArray(target);
        double total = CpuParallel.SumElements(Threads, n, (s, e) => SimdMath.SumSquaredDifference(pa, ta, s, e));
        Host(loss)[0] = (float)(total / n);
    }

    public override void MseLossBackward(DeviceBuffer pred, DeviceBuffer target, DeviceBuffer dloss, DeviceBuffer dpred)
    {
        const string op = "mse_loss_bwd";
        int n = (int)pred.Length;
        using var _ = Profile(op, 3.0 * n, 12.0 * n + 4);
        CheckLength(op, "target", target, n);
        CheckLength(op, "dloss", dloss, 1);
        CheckLength(op, "dpred", dpred, n);
        if (n == 0) throw new ArgumentException($"{op}: the prediction is empty (the mean is undefined).");
        float k = (float)(2.0 * Host(dloss)[0] / n);
        MapElements(new ScaledDifferenceOp(k), HostArray(pred), HostArray(target), HostArray(dpred), n);
    }

    public override void SoftmaxCrossEntropy(DeviceBuffer logits, DeviceBuffer target, DeviceBuffer? weights, ChannelGeometry g, DeviceBuffer loss)
    {
        const string op = "softmax_cross_entropy";
        g.Validate(op);
        using var _ = Profile(op, 7.0 * g.Length, 8.0 * g.Length + 4.0 * g.PerChannel + 4);
        CheckLength(op, "logits", logits, g.Length);
        CheckLength(op, "target", target, g.Length);
        if (weights is not null) CheckLength(op, "weights", weights, g.PerChannel);
        CheckLength(op, "loss", loss, 1);
        var xa = HostArray(logits);
        var za = HostArray(target);
        var wa = weights is null ? null : HostArray(weights);
        int c = g.C, hw = g.HW, blocks = ChannelBlocks.BlocksPerImage(hw);
        // One partial per pixel block, added in order: the loss does not depend on the thread count.
        double total = CpuParallel.SumItems(Threads, g.N * blocks, 2L * ChannelBlocks.Lanes * c, b =>
        {
            int n = b / blocks, j = (b % blocks) * ChannelBlocks.Lanes;
            int start = n * c * hw + j, pixel = n * hw + j, lanes = Math.Min(ChannelBlocks.Lanes, hw - j);
            Vector512<float> l;
            if (lanes == ChannelBlocks.Lanes)
            {
                var w = wa is null ? Vector512<float>.One : SimdMath.Load(ref SimdMath.At(wa), pixel);
                l = CrossEntropyBlock(ref Unsafe.Add(ref SimdMath.At(xa), start), ref Unsafe.Add(ref SimdMath.At(za), start), w, hw, c);
            }
            else
            {
                var sx = ChannelBlocks.RentScratch(c);
                var sz = ChannelBlocks.RentScratch(c);
                ChannelBlocks.Gather(xa, start, hw, c, lanes, sx);
                ChannelBlocks.Gather(za, start, hw, c, lanes, sz);
                l = CrossEntropyBlock(ref SimdMath.At(sx), ref SimdMath.At(sz), TailWeights(wa, pixel, lanes), ChannelBlocks.Lanes, c);
                ChannelBlocks.ReturnScratch(sx);
                ChannelBlocks.ReturnScratch(sz);
            }
            return Vector512.Sum(Vector512.WidenLower(l) + Vector512.WidenUpper(l));
        });
        Host(loss)[0] = (float)(total / g.PerChannel);
    }

    public override void SoftmaxCrossEntropyBackward(DeviceBuffer logits, DeviceBuffer target, DeviceBuffer? weights, ChannelGeometry g,
        DeviceBuffer dloss, DeviceBuffer dlogits)
    {
        const string op = "softmax_cross_entropy_bwd";
        g.Validate(op);
        using var _ = Profile(op, 8.0 * g.Length, 12.0 * g.Length + 4.0 * g.PerChannel + 4);
        CheckLength(op, "logits", logits, g.Length);
        CheckLength(op, "target", target, g.Length);
        if (weights is not null) CheckLength(op, "weights", weights, g.PerChannel);
        CheckLength(op, "dloss", dloss, 1);
        CheckLength(op, "dlogits", dlogits, g.Length);
        var xa = HostArray(logits);
        var za = HostArray(target);
        var wa = weights is null ? null : HostArray(weights);
        var ga = HostArray(dlogits);
        var k = Vector512.Create((float)(Host(dloss)[0] / (double)g.PerChannel));
        int c = g.C, hw = g.HW;
        ForPixelBlocks(g, (start, pixel, lanes) =>
        {
            if (lanes == ChannelBlocks.Lanes)
            {
                var w = wa is null ? Vector512<float>.One : SimdMath.Load(ref SimdMath.At(wa), pixel);
                CrossEntropyGradBlock(ref Unsafe.Add(ref SimdMath.At(xa), start), ref Unsafe.Add(ref SimdMath.At(za), start),
                    ref Unsafe.Add(ref SimdMath.At(ga), start), k * w, hw, c);
                return;
            }
            var sx = ChannelBlocks.RentScratch(c);
            var sz = ChannelBlocks.RentScratch(c);
            ChannelBlocks.Gather(xa, start, hw, c, lanes, sx);
            ChannelBlocks.Gather(za, start, hw, c, lanes, sz);
            CrossEntropyGradBlock(ref SimdMath.At(sx), ref SimdMath.At(sz), ref SimdMath.At(sx), k * TailWeights(wa, pixel, lanes), ChannelBlocks.Lanes, c);
            ChannelBlocks.Scatter(sx, ga, start, hw, c, lanes);
            ChannelBlocks.ReturnScratch(sx);
            ChannelBlocks.ReturnScratch(sz);
        });
    }

    /// <summary>Weights of a partial pixel block; lanes past the end get weight 0.</summary>
    private static Vector512<float> TailWeights(float[]? weights, int pixel, int lanes)
    {
        Span<float> w = stackalloc float[ChannelBlocks.Lanes];
        w.Clear();
        for (int l = 0; l < lanes; l++) w[l] = weights is null ? 1f : weights[pixel + l];
        return Vector512.Create((ReadOnlySpan<float>)w);
    }

    /// <summary>
    /// Per-lane w * (-sum_c z_c log softmax_c(x)) = w * (log(sum e^(x-m)) * sum z + sum z (m - x)):
    /// with z >= 0 both terms are non-negative, so nothing cancels.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot loop: skip the slow tier-0 first calls
    private static Vector512<float> CrossEntropyBlock(ref float x, ref float z, Vector512<float> w, int stride, int channels)
    {
        var m = ChannelMax(ref x, stride, channels);
        Vector512<float> sumExp = default, sumZ = default, sumZd = default;
        for (int c = 0; c < channels; c++)
        {
            var d = m - LoadAt(ref x, c, stride);
            var zv = LoadAt(ref z, c, stride);
            sumExp += SimdMath.Exp(-d);
            sumZ += zv;
            sumZd = Vector512.FusedMultiplyAdd(zv, d, sumZd);
        }
        // Zero-padded lanes (x = z = w = 0) give 0 * (log C * 0 + 0) = 0.
        return w * Vector512.FusedMultiplyAdd(SimdMath.Log(sumExp), sumZ, sumZd);
    }

    /// <summary>dx = kw * (softmax(x) * sum z - z); dx may alias x.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot loop: skip the slow tier-0 first calls
    private static void CrossEntropyGradBlock(ref float x, ref float z, ref float dx, Vector512<float> kw, int stride, int channels)
    {
        var m = ChannelMax(ref x, stride, channels);
        Vector512<float> sumExp = default, sumZ = default;
        for (int c = 0; c < channels; c++)
        {
            var e = SimdMath.Exp(LoadAt(ref x, c, stride) - m);
            sumExp += e;
            sumZ += LoadAt(ref z, c, stride);
            StoreAt(e, ref dx, c, stride);
        }
        var a = kw * sumZ / sumExp;
        for (int c = 0; c < channels; c++)
            StoreAt(a * LoadAt(ref dx, c, stride) - kw * LoadAt(ref z, c, stride), ref dx, c, stride);
    }

    /// <summary>(p, t) -> k * (p - t).</summary>
    private readonly struct ScaledDifferenceOp(float k) : IBinaryMap
    {
        private readonly Vector512<float> _k = Vector512.Create(k);
        public Vector512<float> Apply(Vector512<float> p, Vector512<float> t) => _k * (p - t);
        public float Apply(float p, float t) => k * (p - t);
    }
}
