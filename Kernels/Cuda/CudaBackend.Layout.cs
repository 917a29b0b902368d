using ILGPU;
using ILGPU.Runtime;
using ILGpuSat.Kernels.Cuda.Ops;

namespace ILGpuSat.Kernels.Cuda;

// Per-channel bias, channel copies (concat/slice), resampling and 2x2 max-pooling.
public sealed partial class CudaBackend
{
    private Action<AcceleratorStream, Index1D, int, int, ArrayView<float>, ArrayView<float>, int, int, ArrayView<float>>? _addChannelBias;
    private Action<AcceleratorStream, Index1D, int, int, ArrayView<float>, int, int, ArrayView<float>, int, int, int, int>? _copyChannels;
    private Action<AcceleratorStream, Index1D, int, int, ArrayView<float>, int, int, int, int, float, float, ArrayView<float>>? _bilinear, _bilinearBackward, _nearest, _nearestBackward;
    private Action<AcceleratorStream, Index1D, int, int, ArrayView<float>, int, int, ArrayView<float>>? _maxPool;
    private Action<AcceleratorStream, Index1D, int, int, ArrayView<float>, ArrayView<float>, int, int, ArrayView<float>>? _maxPoolBackward;

    public override void AddChannelBias(DeviceBuffer x, DeviceBuffer bias, ChannelGeometry g, DeviceBuffer y)
    {
        const string op = "add_channel_bias";
        using var _ = Profile(op, g.Length, 8.0 * g.Length);
        g.Validate(op);
        var vx = View(x, op, "x", g.Length);
        var vb = View(bias, op, "bias", g.C);
        var vy = View(y, op, "y", g.Length);
        var k = Cached(ref _addChannelBias, a => a.LoadAutoGroupedKernel<Index1D, int, int, ArrayView<float>, ArrayView<float>, int, int, ArrayView<float>>(ElementwiseKernels.AddChannelBias));
        foreach (var p in ChannelPieces(op, g))
        {
            int n = p.Length;
            var (e, s) = GridStride(n);
            Launch(op, g, () => k(Stream, e, n, s, vx.SubView(p.Offset, n), vb.SubView(p.C0, p.C), p.C, p.HW, vy.SubView(p.Offset, n)));
        }
    }

    public override void CopyChannels(DeviceBuffer src, int srcChannels, int srcOffset, DeviceBuffer dst, int dstChannels, int dstOffset, int count, int n, int hw)
    {
        const string op = "copy_channels";
        using var _ = Profile(op, 0, 8.0 * n * count * hw);
        if (n <= 0 || hw <= 0 || count < 0 || srcOffset < 0 || dstOffset < 0 || srcOffset + count > srcChannels || dstOffset + count > dstChannels)
            throw new ArgumentException($"{op}: channels [{srcOffset}, {srcOffset + count}) of {srcChannels} into [{dstOffset}, {dstOffset + count}) of {dstChannels} (n={n}, hw={hw}) is out of range.");
        var vs = View(src, op, "src", (long)n * srcChannels * hw);
        var vd = View(dst, op, "dst", (long)n * dstChannels * hw);
        if (count == 0) return;
        var k = Cached(ref _copyChannels, a => a.LoadAutoGroupedKernel<Index1D, int, int, ArrayView<float>, int, int, ArrayView<float>, int, int, int, int>(LayoutKernels.CopyChannels));
        long srcImage = (long)srcChannels * hw, dstImage = (long)dstChannels * hw;
        foreach (var (first, images) in ItemGroups(op, "image", n, Math.Max(srcImage, dstImage)))
        {
            int total = images * count * hw;
            var (e, s) = GridStride(total);
            var ps = vs.SubView(first * srcImage, images * srcImage);
            var pd = vd.SubView(first * dstImage, images * dstImage);
            Launch(op, (n, count, hw), () => k(Stream, e, total, s, ps, srcChannels, srcOffset, pd, dstChannels, dstOffset, count, hw));
        }
    }

    public override void UpsampleBilinear(DeviceBuffer x, int planes, int inH, int inW, int outH, int outW, DeviceBuffer y) =>
        ResampleOp("upsample_bilinear", ref _bilinear, LayoutKernels.UpsampleBilinear, forward: true, 11.0, x, y, planes, inH, inW, outH, outW);

    public override void UpsampleBilinearBackward(DeviceBuffer dy, int planes, int inH, int inW, int outH, int outW, DeviceBuffer dx) =>
        ResampleOp("upsample_bilinear_backward", ref _bilinearBackward, LayoutKernels.UpsampleBilinearBackward, forward: false, 11.0, dx, dy, planes, inH, inW, outH, outW);

    public override void UpsampleNearest(DeviceBuffer x, int planes, int inH, int inW, int outH, int outW, DeviceBuffer y) =>
        ResampleOp("upsample_nearest", ref _nearest, LayoutKernels.UpsampleNearest, forward: true, 0, x, y, planes, inH, inW, outH, outW);

    public override void UpsampleNearestBackward(DeviceBuffer dy, int planes, int inH, int inW, int outH, int outW, DeviceBuffer dx) =>
        ResampleOp("upsample_nearest_backward", ref _nearestBackward, LayoutKernels.UpsampleNearestBackward, forward: false, 1.0, dx, dy, planes, inH, inW, outH, outW);

    /// <summary>
    /// One resize kernel over whole planes per launch: <paramref name="forward"/> kernels write the output (large)
    /// side from the input (small) side, backward ones the input-gradient side from the output gradient.
    /// <paramref name="small"/> is always the input-sized buffer and <paramref name="large"/> the output-sized one.
    /// </summary>
    private void ResampleOp(string op, ref Action<AcceleratorStream, Index1D, int, int, ArrayView<float>, int, int, int, int, float, float, ArrayView<float>>? slot,
        Action<Index1D, int, int, ArrayView<float>, int, int, int, int, float, float, ArrayView<float>> kernel, bool forward, double flopsPerOutput,
        DeviceBuffer small, DeviceBuffer large, int planes, int inH, int inW, int outH, int outW)
    {
        using var _ = Profile(op, flopsPerOutput * planes * outH * outW, 4.0 * planes * (inH * inW + outH * outW));
        var (vs, vl) = Resample(op, small, large, planes, inH, inW, outH, outW);
        var k = Cached(ref slot, a => a.LoadAutoGroupedKernel(kernel));
        float sh = (float)inH / outH, sw = (float)inW / outW;
        int inPlane = inH * inW, outPlane = outH * outW;
        foreach (var (first, count) in ItemGroups(op, "plane", planes, Math.Max(inPlane, outPlane)))
        {
            var ps = vs.SubView((long)first * inPlane, (long)count * inPlane);
            var pl = vl.SubView((long)first * outPlane, (long)count * outPlane);
            int total = count * (forward ? outPlane : inPlane);
            var (e, s) = GridStride(total);
            // Forward kernels read the small side and write the large one; backward kernels the other way round.
            Launch(op, (planes, inH, inW, outH, outW), () => k(Stream, e, total, s, forward ? ps : pl, inH, inW, outH, outW, sh, sw, forward ? pl : ps));
        }
    }

    /// <summary>Checks a resize's sizes; returns the input-side and output-side views (launches go by whole planes).</summary>
    private (ArrayView<float> Small, ArrayView<float> Large) Resample(string op, DeviceBuffer input, DeviceBuffer output,
        int planes, int inH, int inW, int outH, int outW)
    {
        if (planes <= 0 || inH <= 0 || inW <= 0 || outH <= 0 || outW <= 0)
            throw new ArgumentException($"{op}: sizes must be positive, got planes={planes} in {inH}x{inW} out {outH}x{outW}.");
        long inCount = (long)planes * inH * inW, outCount = (long)planes * outH * outW;
        // The index arithmetic multiplies an output coordinate by an input size (and vice versa) in 32 bits.
        if ((long)outH * inH > int.MaxValue || (long)outW * inW > int.MaxValue || (long)inH * inW > MaxElements || (long)outH * outW > MaxElements)
            throw new ArgumentException($"{op}: {inH}x{inW} -> {outH}x{outW} is too large for one plane of the CUDA kernels (32-bit indexing).");
        return (View(input, op, "input", inCount), View(output, op, "output", outCount));
    }

    public override void MaxPool2x2(DeviceBuffer x, int planes, int inH, int inW, DeviceBuffer y)
    {
        const string op = "max_pool2x2";
        using var _ = Profile(op, 3.0 * planes * (inH / 2) * (inW / 2), 5.0 * planes * (inH / 2) * (inW / 2));
        var (vx, vy) = Pool(op, x, y, planes, inH, inW);
        var k = Cached(ref _maxPool, a => a.LoadAutoGroupedKernel<Index1D, int, int, ArrayView<float>, int, int, ArrayView<float>>(LayoutKernels.MaxPool2x2));
        int inPlane = inH * inW, outPlane = (inH / 2) * (inW / 2);
        foreach (var (first, count) in ItemGroups(op, "plane", planes, inPlane))
        {
            int total = count * outPlane;
            var (e, s) = GridStride(total);
            var px = vx.SubView((long)first * inPlane, (long)count * inPlane);
            var py = vy.SubView((long)first * outPlane, total);
            Launch(op, (planes, inH, inW), () => k(Stream, e, total, s, px, inH, inW, py));
        }
    }

    public override void MaxPool2x2Backward(DeviceBuffer x, DeviceBuffer dy, int planes, int inH, int inW, DeviceBuffer dx)
    {
        const string op = "max_pool2x2_backward";
        using var _ = Profile(op, 3.0 * planes * inH * inW, 12.0 * planes * inH * inW);
        var (vx, vdy) = Pool(op, x, dy, planes, inH, inW);
        var vdx = View(dx, op, "dx", (long)planes * inH * inW);
        var k = Cached(ref _maxPoolBackward, a => a.LoadAutoGroupedKernel<Index1D, int, int, ArrayView<float>, ArrayView<float>, int, int, ArrayView<float>>(LayoutKernels.MaxPool2x2Backward));
        int inPlane = inH * inW, outPlane = (inH / 2) * (inW / 2);
        foreach (var (first, count) in ItemGroups(op, "plane", planes, inPlane))
        {
            int total = count * inPlane;
            var (e, s) = GridStride(total);
            var px = vx.SubView((long)first * inPlane, total);
            var pdy = vdy.SubView((long)first * outPlane, (long)count * outPlane);
            var pdx = vdx.SubView((long)first * inPlane, total);
            Launch(op, (planes, inH, inW), () => k(Stream, e, total, s, px, pdy, inH, inW, pdx));
        }
    }

    /// <summary>Checks a 2x2 pool's sizes; returns the input view and the pooled view (launches go by whole planes).</summary>
    private (ArrayView<float> Input, ArrayView<float> Pooled) Pool(string op, DeviceBuffer input, DeviceBuffer pooled, int planes, int inH, int inW)
    {
        if (planes <= 0 || inH < 2 || inW < 2)
            throw new ArgumentException($"{op}: needs planes > 0 and an input of at least 2x2, got planes={planes} {inH}x{inW}.");
        if ((long)inH * inW > MaxElements)
            throw new ArgumentException($"{op}: one {inH}x{inW} plane exceeds the CUDA kernels' 32-bit indexing limit of {MaxElements} floats.");
        long inCount = (long)planes * inH * inW, outCount = (long)planes * (inH / 2) * (inW / 2);
        return (View(input, op, "x", inCount), View(pooled, op, "pooled", outCount));
    }
}
