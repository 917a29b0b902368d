using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace ILGpuSat.Kernels.Cpu;

// Softmax and log-softmax over the channel axis, one distribution per pixel, vectorised across 16
// pixels at a time (see ChannelBlocks). Numerically stable: the per-pixel maximum is subtracted
// before exponentiating. Every pass reads a value before writing the same index, so y may alias x.
public sealed partial class CpuBackend
{
    public override void Softmax(DeviceBuffer x, ChannelGeometry g, DeviceBuffer y)
    {
        const string op = "softmax";
        g.Validate(op);
        using var _ = Profile(op, 4.0 * g.Length, 8.0 * g.Length);
        CheckLength(op, "x", x, g.Length);
        CheckLength(op, "y", y, g.Length);
        var xa = HostArray(x);
        var ya = HostArray(y);
        int c = g.C, hw = g.HW;
        ForPixelBlocks(g, (start, _, lanes) =>
        {
            if (lanes == ChannelBlocks.Lanes)
            {
                SoftmaxBlock(ref Unsafe.Add(ref SimdMath.At(xa), start), ref Unsafe.Add(ref SimdMath.At(ya), start), hw, c);
                return;
            }
            var s = ChannelBlocks.RentScratch(c);
            ChannelBlocks.Gather(xa, start, hw, c, lanes, s);
            SoftmaxBlock(ref SimdMath.At(s), ref SimdMath.At(s), ChannelBlocks.Lanes, c);
            ChannelBlocks.Scatter(s, ya, start, hw, c, lanes);
            ChannelBlocks.ReturnScratch(s);
        });
    }

    public override void SoftmaxBackward(DeviceBuffer y, DeviceBuffer dy, ChannelGeometry g, DeviceBuffer dx)
    {
        const string op = "softmax_bwd";
        g.Validate(op);
        using var _ = Profile(op, 4.0 * g.Length, 12.0 * g.Length);
        CheckLength(op, "y", y, g.Length);
        CheckLength(op, "dy", dy, g.Length);
        CheckLength(op, "dx", dx, g.Length);
        var ya = HostArray(y);
        var da = HostArray(dy);
        var ga = HostArray(dx);
        int c = g.C, hw = g.HW;
        ForPixelBlocks(g, (start, _, lanes) =>
        {
            if (lanes == ChannelBlocks.Lanes)
            {
                SoftmaxGradBlock(ref Unsafe.Add(ref SimdMath.At(ya), start), ref Unsafe.Add(ref SimdMath.At(da), start),
                    ref Unsafe.Add(ref SimdMath.At(ga), start), hw, c);
                return;
            }
            var sy = ChannelBlocks.RentScratch(c);
            var sd = ChannelBlocks.RentScratch(c);
            ChannelBlocks.Gather(ya, start, hw, c, lanes, sy);
            ChannelBlocks.Gather(da, start, hw, c, lanes, sd);
            SoftmaxGradBlock(ref SimdMath.At(sy), ref SimdMath.At(sd), ref SimdMath.At(sd), ChannelBlocks.Lanes, c);
            ChannelBlocks.Scatter(sd, ga, start, hw, c, lanes);
            ChannelBlocks.ReturnScratch(sy);
            ChannelBlocks.ReturnScratch(sd);
        });
    }

    public override void LogSoftmax(DeviceBuffer x, ChannelGeometry g, DeviceBuffer y)
    {
        const string op = "log_softmax";
        g.Validate(op);
        using var _ = Profile(op, 4.0 * g.Length, 8.0 * g.Length);
        CheckLength(op, "x", x, g.Length);
        CheckLength(op, "y", y, g.Length);
        var xa = HostArray(x);
        var ya = HostArray(y);
        int c = g.C, hw = g.HW;
        ForPixelBlocks(g, (start, _, lanes) =>
        {
            if (lanes == ChannelBlocks.Lanes)
            {
                LogSoftmaxBlock(ref Unsafe.Add(ref SimdMath.At(xa), start), ref Unsafe.Add(ref SimdMath.At(ya), start), hw, c);
                return;
            }
            var s = ChannelBlocks.RentScratch(c);
            ChannelBlocks.Gather(xa, start, hw, c, lanes, s);
            LogSoftmaxBlock(ref SimdMath.At(s), ref SimdMath.At(s), ChannelBlocks.Lanes, c);
            ChannelBlocks.Scatter(s, ya, start, hw, c, lanes);
            ChannelBlocks.ReturnScratch(s);
        });
    }

    public override void LogSoftmaxBackward(DeviceBuffer y, DeviceBuffer dy, ChannelGeometry g, DeviceBuffer dx)
    {
        const string op = "log_softmax_bwd";
        g.Validate(op);
        using var _ = Profile(op, 4.0 * g.Length, 12.0 * g.Length);
        CheckLength(op, "y", y, g.Length);
        CheckLength(op, "dy", dy, g.Length);
        CheckLength(op, "dx", dx, g.Length);
        var ya = HostArray(y);
        var da = HostArray(dy);
        var ga = HostArray(dx);
        int c = g.C, hw = g.HW;
        ForPixelBlocks(g, (start, _, lanes) =>
        {
            if (lanes == ChannelBlocks.Lanes)
            {
                LogSoftmaxGradBlock(ref Unsafe.Add(ref SimdMath.At(ya), start), ref Unsafe.Add(ref SimdMath.At(da), start),
                    ref Unsafe.Add(ref SimdMath.At(ga), start), hw, c);
                return;
            }
            var sy = ChannelBlocks.RentScratch(c);
            var sd = ChannelBlocks.RentScratch(c);
            ChannelBlocks.Gather(ya, start, hw, c, lanes, sy);
            ChannelBlocks.Gather(da, start, hw, c, lanes, sd);
            LogSoftmaxGradBlock(ref SimdMath.At(sy), ref SimdMath.At(sd), ref SimdMath.At(sd), ChannelBlocks.Lanes, c);
            ChannelBlocks.Scatter(sd, ga, start, hw, c, lanes);
            ChannelBlocks.ReturnScratch(sy);
            ChannelBlocks.ReturnScratch(sd);
        });
    }

    /// <summary>
    /// Runs body(start, pixel, lanes) for every block of up to 16 pixels: start is the index of
    /// channel 0 of the block in an NCHW buffer, pixel its index in an [N,1,H,W] buffer.
    /// </summary>
    private void ForPixelBlocks(ChannelGeometry g, Action<int, int, int> body)
    {
        int c = g.C, hw = g.HW, blocks = ChannelBlocks.BlocksPerImage(hw);
        CpuParallel.For(Threads, g.N * blocks, 3L * ChannelBlocks.Lanes * c, (b0, b1) =>
        {
            for (int b = b0; b < b1; b++)
            {
                int n = b / blocks, j = (b % blocks) * ChannelBlocks.Lanes;
                body(n * c * hw + j, n * hw + j, Math.Min(ChannelBlocks.Lanes, hw - j));
            }
        });
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> LoadAt(ref float r, int c, int stride) => Vector512.LoadUnsafe(ref r, (nuint)((long)c * stride));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreAt(Vector512<float> v, ref float r, int c, int stride) => v.StoreUnsafe(ref r, (nuint)((long)c * stride));

    /// <summary>Per-lane maximum over the channels (NaN propagates).</summary>
    private static Vector512<float> ChannelMax(ref float x, int stride, int channels)
    {
        var m = LoadAt(ref x, 0, stride);
        for (int c = 1; c < channels; c++) m = Vector512.Max(m, LoadAt(ref x, c, stride));
        return m;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot loop: skip the slow tier-0 first calls
    private static void SoftmaxBlock(ref float x, ref float y, int stride, int channels)
    {
        var m = ChannelMax(ref x, stride, channels);
        var sum = Vector512<float>.Zero;
        for (int c = 0; c < channels; c++)
        {
            var e = SimdMath.Exp(LoadAt(ref x, c, stride) - m);
            sum += e;
            StoreAt(e, ref y, c, stride);
        }
        var inv = Vector512<float>.One / sum;
        for (int c = 0; c < channels; c++) StoreAt(LoadAt(ref y, c, stride) * inv, ref y, c, stride);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot loop: skip the slow tier-0 first calls
    private static void LogSoftmaxBlock(ref float x, ref float y, int stride, int channels)
    {
        var m = ChannelMax(ref x, stride, channels);
        var sum = Vector512<float>.Zero;
        for (int c = 0; c < channels; c++) sum += SimdMath.Exp(LoadAt(ref x, c, stride) - m);
        var lse = m + SimdMath.Log(sum);
        for (int c = 0; c < channels; c++) StoreAt(LoadAt(ref x, c, stride) - lse, ref y, c, stride);
    }

    /// <summary>dx = y * (dy - sum_c dy*y).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot loop: skip the slow tier-0 first calls
    private static void SoftmaxGradBlock(ref float y, ref float dy, ref float dx, int stride, int channels)
    {
        var dot = Vector512<float>.Zero;
        for (int c = 0; c < channels; c++) dot = Vector512.FusedMultiplyAdd(LoadAt(ref dy, c, stride), LoadAt(ref y, c, stride), dot);
        for (int c = 0; c < channels; c++)
        {
            var yv = LoadAt(ref y, c, stride);
            StoreAt(yv * (LoadAt(ref dy, c, stride) - dot), ref dx, c, stride);
        }
    }

    /// <summary>dx = dy - exp(y) * sum_c dy.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot loop: skip the slow tier-0 first calls
    private static void LogSoftmaxGradBlock(ref float y, ref float dy, ref float dx, int stride, int channels)
    {
        var sum = Vector512<float>.Zero;
        for (int c = 0; c < channels; c++) sum += LoadAt(ref dy, c, stride);
        for (int c = 0; c < channels; c++)
        {
            var e = SimdMath.Exp(LoadAt(ref y, c, stride));
            StoreAt(Vector512.FusedMultiplyAdd(-e, sum, LoadAt(ref dy, c, stride)), ref dx, c, stride);
        }
    }
}
