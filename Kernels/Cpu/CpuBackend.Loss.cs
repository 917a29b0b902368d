using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
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
        int c = g.C, hw = g.HW, perImage = ChannelBlocks.ItemsPerImage(hw);
        // One partial per pixel group, added in order: the loss does not depend on the thread count.
        double total = CpuParallel.SumItems(Threads, g.N * perImage, 2L * ChannelBlocks.Wide * c, b =>
        {
            var blk = ChannelBlocks.Locate(b, perImage, c, hw);
            ref float x0 = ref Unsafe.Add(ref SimdMath.At(xa), blk.Start);
            ref float z0 = ref Unsafe.Add(ref SimdMath.At(za), blk.Start);
            ref float w0 = ref wa is null ? ref SimdMath.At(Ones) : ref Unsafe.Add(ref SimdMath.At(wa), blk.Pixel);
            if (blk.Width >= ChannelBlocks.Lanes) return CrossEntropyGroup(ref x0, ref z0, ref w0, hw, c, blk.Width);
            var sx = ChannelBlocks.RentScratch(c);
            var sz = ChannelBlocks.RentScratch(c);
            ChannelBlocks.Gather(xa, blk.Start, hw, c, blk.Width, sx);
            ChannelBlocks.Gather(za, blk.Start, hw, c, blk.Width, sz);
            Span<float> tw = stackalloc float[ChannelBlocks.Lanes];
            TailWeights(wa, blk.Pixel, blk.Width, tw);
            double l = CrossEntropyGroup(ref SimdMath.At(sx), ref SimdMath.At(sz), ref MemoryMarshal.GetReference(tw), ChannelBlocks.Lanes, c, ChannelBlocks.Lanes);
            ChannelBlocks.ReturnScratch(sx);
            ChannelBlocks.ReturnScratch(sz);
            return l;
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
        float k = (float)(Host(dloss)[0] / (double)g.PerChannel);
        int c = g.C, hw = g.HW;
        ForPixelBlocks(g, (start, pixel, width) =>
        {
            ref float x0 = ref Unsafe.Add(ref SimdMath.At(xa), start);
            ref float z0 = ref Unsafe.Add(ref SimdMath.At(za), start);
            ref float g0 = ref Unsafe.Add(ref SimdMath.At(ga), start);
            ref float w0 = ref wa is null ? ref SimdMath.At(Ones) : ref Unsafe.Add(ref SimdMath.At(wa), pixel);
            if (width >= ChannelBlocks.Lanes)
            {
                CrossEntropyGradGroup(ref x0, ref z0, ref g0, ref w0, k, hw, c, width);
                return;
            }
            var sx = ChannelBlocks.RentScratch(c);
            var sz = ChannelBlocks.RentScratch(c);
            ChannelBlocks.Gather(xa, start, hw, c, width, sx);
            ChannelBlocks.Gather(za, start, hw, c, width, sz);
            Span<float> tw = stackalloc float[ChannelBlocks.Lanes];
            TailWeights(wa, pixel, width, tw);
            CrossEntropyGradGroup(ref SimdMath.At(sx), ref SimdMath.At(sz), ref SimdMath.At(sx), ref MemoryMarshal.GetReference(tw), k, ChannelBlocks.Lanes, c, ChannelBlocks.Lanes);
            ChannelBlocks.Scatter(sx, ga, start, hw, c, width);
            ChannelBlocks.ReturnScratch(sx);
            ChannelBlocks.ReturnScratch(sz);
        });
    }

    /// <summary>Unit weights for a full group when no per-pixel weights are given.</summary>
    private static readonly float[] Ones = Enumerable.Repeat(1f, ChannelBlocks.Wide).ToArray();

    /// <summary>Weights of a partial pixel group; lanes past the end get weight 0 (their padded logits and targets are 0 too).</summary>
    private static void TailWeights(float[]? weights, int pixel, int lanes, Span<float> w)
    {
        w.Clear();
        for (int l = 0; l < lanes; l++) w[l] = weights is null ? 1f : weights[pixel + l];
    }

    /// <summary>
    /// The loss of one full group of 64 or 16 pixels on this machine's vectors (see
    /// <see cref="ChannelBlocks.Use256"/>); a 64-pixel group on AVX2 is two halves added in order.
    /// </summary>
    private static double CrossEntropyGroup(ref float x, ref float z, ref float w, int stride, int channels, int lanes)
    {
        if (!ChannelBlocks.Use256)
            return lanes == ChannelBlocks.Wide ? CrossEntropyBlock<Px64>(ref x, ref z, ref w, stride, channels)
                : CrossEntropyBlock<Px16>(ref x, ref z, ref w, stride, channels);
        if (lanes != ChannelBlocks.Wide) return CrossEntropyBlock<Px16Avx2>(ref x, ref z, ref w, stride, channels);
        double first = CrossEntropyBlock<Px32Avx2>(ref x, ref z, ref w, stride, channels);
        return first + CrossEntropyBlock<Px32Avx2>(ref Unsafe.Add(ref x, 32), ref Unsafe.Add(ref z, 32), ref Unsafe.Add(ref w, 32), stride, channels);
    }

    /// <summary>The gradient counterpart of <see cref="CrossEntropyGroup"/>.</summary>
    private static void CrossEntropyGradGroup(ref float x, ref float z, ref float dx, ref float w, float k, int stride, int channels, int lanes)
    {
        if (!ChannelBlocks.Use256)
        {
            if (lanes == ChannelBlocks.Wide) CrossEntropyGradBlock<Px64>(ref x, ref z, ref dx, ref w, k, stride, channels);
            else CrossEntropyGradBlock<Px16>(ref x, ref z, ref dx, ref w, k, stride, channels);
        }
        else if (lanes == ChannelBlocks.Wide)
        {
            CrossEntropyGradBlock<Px32Avx2>(ref x, ref z, ref dx, ref w, k, stride, channels);
            CrossEntropyGradBlock<Px32Avx2>(ref Unsafe.Add(ref x, 32), ref Unsafe.Add(ref z, 32), ref Unsafe.Add(ref dx, 32), ref Unsafe.Add(ref w, 32), k, stride, channels);
        }
        else CrossEntropyGradBlock<Px16Avx2>(ref x, ref z, ref dx, ref w, k, stride, channels);
    }

    /// <summary>
    /// Sum over the group's pixels of w * (-sum_c z_c log softmax_c(x)) = w * (log(sum e^(x-m)) * sum z + sum z (m - x)):
    /// with z >= 0 both terms are non-negative, so nothing cancels. Zero-padded lanes (x = z = w = 0) add 0.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot loop: skip the slow tier-0 first calls
    private static double CrossEntropyBlock<T>(ref float x, ref float z, ref float w, int stride, int channels) where T : struct, IPixelVector<T>
    {
        var m = ChannelMax<T>(ref x, stride, channels);
        T sumExp = T.Zero, sumZ = T.Zero, sumZd = T.Zero;
        for (int c = 0; c < channels; c++)
        {
            var d = T.Sub(m, T.Load(ref Row(ref x, c, stride)));
            var zv = T.Load(ref Row(ref z, c, stride));
            sumExp = T.Add(sumExp, T.Exp(T.Sub(T.Zero, d)));
            sumZ = T.Add(sumZ, zv);
            sumZd = T.Fma(zv, d, sumZd);
        }
        return T.Sum(T.Mul(T.Load(ref w), T.Fma(T.Log(sumExp), sumZ, sumZd)));
    }

    /// <summary>dx = k * w * (softmax(x) * sum z - z); dx may alias x.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot loop: skip the slow tier-0 first calls
    private static void CrossEntropyGradBlock<T>(ref float x, ref float z, ref float dx, ref float w, float k, int stride, int channels)
        where T : struct, IPixelVector<T>
    {
        var m = ChannelMax<T>(ref x, stride, channels);
        T sumExp = T.Zero, sumZ = T.Zero;
        for (int c = 0; c < channels; c++)
        {
            var e = T.Exp(T.Sub(T.Load(ref Row(ref x, c, stride)), m));
            sumExp = T.Add(sumExp, e);
            sumZ = T.Add(sumZ, T.Load(ref Row(ref z, c, stride)));
            T.Store(e, ref Row(ref dx, c, stride));
        }
        var kw = T.Mul(T.Splat(k), T.Load(ref w));
        var a = T.Div(T.Mul(kw, sumZ), sumExp);
        for (int c = 0; c < channels; c++)
        {
            ref float rg = ref Row(ref dx, c, stride);
            T.Store(T.Sub(T.Mul(a, T.Load(ref rg)), T.Mul(kw, T.Load(ref Row(ref z, c, stride)))), ref rg);
        }
    }

    /// <summary>(p, t) -> k * (p - t).</summary>
    private readonly struct ScaledDifferenceOp(float k) : IBinaryMap
    {
        private readonly Vector512<float> _k = Vector512.Create(k);
        public Vector512<float> Apply(Vector512<float> p, Vector512<float> t) => _k * (p - t);
        public Vector256<float> Apply(Vector256<float> p, Vector256<float> t) => Vector256.Create(k) * (p - t);
        public float Apply(float p, float t) => k * (p - t);
    }
}
