using System.Runtime.CompilerServices;

namespace ILGpuSat.Kernels.Cpu;

// Softmax and log-softmax over the channel axis, one distribution per pixel, vectorised across 64
// or 16 neighbouring pixels held in registers (see ChannelBlocks, PixelVectors). Numerically
// stable: the per-pixel maximum is subtracted before exponentiating. Every pass reads a value
// before writing the same index, so y may alias x.
public sealed partial class CpuBackend
{
    public override void Softmax(DeviceBuffer x, ChannelGeometry g, DeviceBuffer y)
        => MapChannels<SoftmaxMap>("softmax", x, g, y);

    public override void SoftmaxBackward(DeviceBuffer y, DeviceBuffer dy, ChannelGeometry g, DeviceBuffer dx)
        => MapChannelGrads<SoftmaxGradMap>("softmax_bwd", y, dy, g, dx);

    public override void LogSoftmax(DeviceBuffer x, ChannelGeometry g, DeviceBuffer y)
        => MapChannels<LogSoftmaxMap>("log_softmax", x, g, y);

    public override void LogSoftmaxBackward(DeviceBuffer y, DeviceBuffer dy, ChannelGeometry g, DeviceBuffer dx)
        => MapChannelGrads<LogSoftmaxGradMap>("log_softmax_bwd", y, dy, g, dx);

    /// <summary>A per-pixel map over the channel axis, y = f(x), on one block of pixel lanes.</summary>
    private interface IChannelMap
    {
        static abstract void Block<T>(ref float x, ref float y, int stride, int channels) where T : struct, IPixelVector<T>;
    }

    /// <summary>The backward of a per-pixel map, dx = f'(y, dy), on one block of pixel lanes.</summary>
    private interface IChannelGradMap
    {
        static abstract void Block<T>(ref float y, ref float dy, ref float dx, int stride, int channels) where T : struct, IPixelVector<T>;
    }

    private readonly struct SoftmaxMap : IChannelMap
    {
        public static void Block<T>(ref float x, ref float y, int stride, int channels) where T : struct, IPixelVector<T>
            => SoftmaxBlock<T>(ref x, ref y, stride, channels);
    }

    private readonly struct LogSoftmaxMap : IChannelMap
    {
        public static void Block<T>(ref float x, ref float y, int stride, int channels) where T : struct, IPixelVector<T>
            => LogSoftmaxBlock<T>(ref x, ref y, stride, channels);
    }

    private readonly struct SoftmaxGradMap : IChannelGradMap
    {
        public static void Block<T>(ref float y, ref float dy, ref float dx, int stride, int channels) where T : struct, IPixelVector<T>
            => SoftmaxGradBlock<T>(ref y, ref dy, ref dx, stride, channels);
    }

    private readonly struct LogSoftmaxGradMap : IChannelGradMap
    {
        public static void Block<T>(ref float y, ref float dy, ref float dx, int stride, int channels) where T : struct, IPixelVector<T>
            => LogSoftmaxGradBlock<T>(ref y, ref dy, ref dx, stride, channels);
    }

    /// <summary>
    /// y = TOp(x) per pixel: full groups of 64 or 16 pixels run in place in the NCHW buffers; a partial
    /// group is gathered into a 16-lane scratch block and scattered back.
    /// </summary>
    private void MapChannels<TOp>(string op, DeviceBuffer x, ChannelGeometry g, DeviceBuffer y) where TOp : IChannelMap
    {
        g.Validate(op);
        using var _ = Profile(op, 4.0 * g.Length, 8.0 * g.Length);
        CheckLength(op, "x", x, g.Length);
        CheckLength(op, "y", y, g.Length);
        var xa = HostArray(x);
        var ya = HostArray(y);
        int c = g.C, hw = g.HW;
        ForPixelBlocks(g, (start, _, lanes) =>
        {
            if (lanes >= ChannelBlocks.Lanes)
            {
                MapGroup<TOp>(ref Unsafe.Add(ref SimdMath.At(xa), start), ref Unsafe.Add(ref SimdMath.At(ya), start), hw, c, lanes);
                return;
            }
            var s = ChannelBlocks.RentScratch(c);
            ChannelBlocks.Gather(xa, start, hw, c, lanes, s);
            MapGroup<TOp>(ref SimdMath.At(s), ref SimdMath.At(s), ChannelBlocks.Lanes, c, ChannelBlocks.Lanes);
            ChannelBlocks.Scatter(s, ya, start, hw, c, lanes);
            ChannelBlocks.ReturnScratch(s);
        });
    }

    /// <summary>dx = TOp(y, dy) per pixel, blocked like <see cref="MapChannels{TOp}"/>.</summary>
    private void MapChannelGrads<TOp>(string op, DeviceBuffer y, DeviceBuffer dy, ChannelGeometry g, DeviceBuffer dx) where TOp : IChannelGradMap
    {
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
            if (lanes >= ChannelBlocks.Lanes)
            {
                MapGradGroup<TOp>(ref Unsafe.Add(ref SimdMath.At(ya), start), ref Unsafe.Add(ref SimdMath.At(da), start), ref Unsafe.Add(ref SimdMath.At(ga), start), hw, c, lanes);
                return;
            }
            var sy = ChannelBlocks.RentScratch(c);
            var sd = ChannelBlocks.RentScratch(c);
            ChannelBlocks.Gather(ya, start, hw, c, lanes, sy);
            ChannelBlocks.Gather(da, start, hw, c, lanes, sd);
            MapGradGroup<TOp>(ref SimdMath.At(sy), ref SimdMath.At(sd), ref SimdMath.At(sd), ChannelBlocks.Lanes, c, ChannelBlocks.Lanes);
            ChannelBlocks.Scatter(sd, ga, start, hw, c, lanes);
            ChannelBlocks.ReturnScratch(sy);
            ChannelBlocks.ReturnScratch(sd);
        });
    }

    /// <summary>One full group of 64 or 16 pixels through TOp on the vectors of this machine (see <see cref="ChannelBlocks.Use256"/>).</summary>
    private static void MapGroup<TOp>(ref float x, ref float y, int stride, int channels, int lanes) where TOp : IChannelMap
    {
        if (!ChannelBlocks.Use256)
        {
            if (lanes == ChannelBlocks.Wide) TOp.Block<Px64>(ref x, ref y, stride, channels);
            else TOp.Block<Px16>(ref x, ref y, stride, channels);
        }
        else if (lanes == ChannelBlocks.Wide)
        {
            TOp.Block<Px32Avx2>(ref x, ref y, stride, channels);
            TOp.Block<Px32Avx2>(ref Unsafe.Add(ref x, 32), ref Unsafe.Add(ref y, 32), stride, channels);
        }
        else TOp.Block<Px16Avx2>(ref x, ref y, stride, channels);
    }

    /// <summary>The backward counterpart of <see cref="MapGroup{TOp}"/>.</summary>
    private static void MapGradGroup<TOp>(ref float y, ref float dy, ref float dx, int stride, int channels, int lanes) where TOp : IChannelGradMap
    {
        if (!ChannelBlocks.Use256)
        {
            if (lanes == ChannelBlocks.Wide) TOp.Block<Px64>(ref y, ref dy, ref dx, stride, channels);
            else TOp.Block<Px16>(ref y, ref dy, ref dx, stride, channels);
        }
        else if (lanes == ChannelBlocks.Wide)
        {
            TOp.Block<Px32Avx2>(ref y, ref dy, ref dx, stride, channels);
            TOp.Block<Px32Avx2>(ref Unsafe.Add(ref y, 32), ref Unsafe.Add(ref dy, 32), ref Unsafe.Add(ref dx, 32), stride, channels);
        }
        else TOp.Block<Px16Avx2>(ref y, ref dy, ref dx, stride, channels);
    }

    /// <summary>
    /// Runs body(start, pixel, width) for every pixel group (see ChannelBlocks): start is the index
    /// of channel 0 of the group in an NCHW buffer, pixel its index in an [N,1,H,W] buffer, width
    /// 64, 16, or 1..15 for a partial group.
    /// </summary>
    private void ForPixelBlocks(ChannelGeometry g, Action<int, int, int> body)
    {
        int c = g.C, hw = g.HW, perImage = ChannelBlocks.ItemsPerImage(hw);
        CpuParallel.For(Threads, g.N * perImage, 3L * ChannelBlocks.Wide * c, (b0, b1) =>
        {
            for (int b = b0; b < b1; b++)
            {
                var blk = ChannelBlocks.Locate(b, perImage, c, hw);
                body(blk.Start, blk.Pixel, blk.Width);
            }
        });
    }

    /// <summary>Row c (channel c) of a group; rows are stride floats apart.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ref float Row(ref float block, int c, int stride) => ref Unsafe.Add(ref block, (nint)c * stride);

    /// <summary>Per-pixel maximum over the channels (NaN propagates).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static T ChannelMax<T>(ref float x, int stride, int channels) where T : struct, IPixelVector<T>
    {
        var m = T.Load(ref x);
        for (int c = 1; c < channels; c++) m = T.Max(m, T.Load(ref Row(ref x, c, stride)));
        return m;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot loop: skip the slow tier-0 first calls
    private static void SoftmaxBlock<T>(ref float x, ref float y, int stride, int channels) where T : struct, IPixelVector<T>
    {
        var m = ChannelMax<T>(ref x, stride, channels);
        var sum = T.Zero;
        for (int c = 0; c < channels; c++)
        {
            var e = T.Exp(T.Sub(T.Load(ref Row(ref x, c, stride)), m));
            sum = T.Add(sum, e);
            T.Store(e, ref Row(ref y, c, stride));
        }
        var inv = T.Div(T.Splat(1f), sum);
        for (int c = 0; c < channels; c++)
        {
            ref float ry = ref Row(ref y, c, stride);
            T.Store(T.Mul(T.Load(ref ry), inv), ref ry);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot loop: skip the slow tier-0 first calls
    private static void LogSoftmaxBlock<T>(ref float x, ref float y, int stride, int channels) where T : struct, IPixelVector<T>
    {
        var m = ChannelMax<T>(ref x, stride, channels);
        var sum = T.Zero;
        for (int c = 0; c < channels; c++) sum = T.Add(sum, T.Exp(T.Sub(T.Load(ref Row(ref x, c, stride)), m)));
        var lse = T.Add(m, T.Log(sum));
        for (int c = 0; c < channels; c++) T.Store(T.Sub(T.Load(ref Row(ref x, c, stride)), lse), ref Row(ref y, c, stride));
    }

    /// <summary>dx = y * (dy - sum_c dy*y).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot loop: skip the slow tier-0 first calls
    private static void SoftmaxGradBlock<T>(ref float y, ref float dy, ref float dx, int stride, int channels) where T : struct, IPixelVector<T>
    {
        var dot = T.Zero;
        for (int c = 0; c < channels; c++) dot = T.Fma(T.Load(ref Row(ref dy, c, stride)), T.Load(ref Row(ref y, c, stride)), dot);
        for (int c = 0; c < channels; c++)
        {
            var yv = T.Load(ref Row(ref y, c, stride));
            T.Store(T.Mul(yv, T.Sub(T.Load(ref Row(ref dy, c, stride)), dot)), ref Row(ref dx, c, stride));
        }
    }

    /// <summary>dx = dy - exp(y) * sum_c dy.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot loop: skip the slow tier-0 first calls
    private static void LogSoftmaxGradBlock<T>(ref float y, ref float dy, ref float dx, int stride, int channels) where T : struct, IPixelVector<T>
    {
        var sum = T.Zero;
        for (int c = 0; c < channels; c++) sum = T.Add(sum, T.Load(ref Row(ref dy, c, stride)));
        for (int c = 0; c < channels; c++)
        {
            var e = T.Exp(T.Load(ref Row(ref y, c, stride)));
            T.Store(T.Sub(T.Load(ref Row(ref dy, c, stride)), T.Mul(e, sum)), ref Row(ref dx, c, stride));
        }
    }
}
