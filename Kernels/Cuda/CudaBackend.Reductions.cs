using ILGPU;
using ILGPU.Runtime;
using ILGpuSat.Kernels.Cuda.Ops;

namespace ILGpuSat.Kernels.Cuda;

// Reductions: grid-wide sums (two passes through per-block partials) and per-channel sums
// (blocks per channel slice, then a fixed-order sum per channel). Deterministic: no atomics.
public sealed partial class CudaBackend
{
    private Action<AcceleratorStream, KernelConfig, ArrayView<float>, ArrayView<float>, int, int, ArrayView<float>>? _globalPartials;
    private Action<AcceleratorStream, KernelConfig, ArrayView<float>, int, float, ArrayView<float>>? _globalFinal;
    private Action<AcceleratorStream, KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int, int, int, ArrayView<float>, ArrayView<float>>? _channelPartials;
    private Action<AcceleratorStream, Index1D, ArrayView<float>, int, float, ArrayView<float>>? _channelSumFinal;
    private Action<AcceleratorStream, Index1D, int, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, float, ArrayView<float>>? _mseBackward;

    public override void Sum(DeviceBuffer x, DeviceBuffer result)
    {
        using var _ = Profile("sum", x.Length, 4.0 * x.Length);
        var vx = View(x, "sum", "x");
        GlobalSumPieces("sum", vx, vx, GlobalTerm.X, x.Length, 1f, View(result, "sum", "result", 1));
    }

    public override void SumOfSquares(DeviceBuffer x, DeviceBuffer result)
    {
        using var _ = Profile("sum_of_squares", 2.0 * x.Length, 4.0 * x.Length);
        var vx = View(x, "sum_of_squares", "x");
        GlobalSumPieces("sum_of_squares", vx, vx, GlobalTerm.XSquared, x.Length, 1f, View(result, "sum_of_squares", "result", 1));
    }

    public override void ChannelSum(DeviceBuffer x, ChannelGeometry g, DeviceBuffer sum)
    {
        using var _ = Profile("channel_sum", g.Length, 4.0 * g.Length);
        g.Validate("channel_sum");
        var vx = View(x, "channel_sum", "x", g.Length);
        ChannelSumPieces("channel_sum", vx, vx, ChannelTerm.X, g, View(sum, "channel_sum", "sum", g.C));
    }

    public override void MseLoss(DeviceBuffer pred, DeviceBuffer target, DeviceBuffer loss)
    {
        using var _ = Profile("mse_loss", 3.0 * pred.Length, 8.0 * pred.Length);
        long n = pred.Length;
        if (n == 0) throw new ArgumentException("mse_loss: empty input (the mean is undefined).");
        var vp = View(pred, "mse_loss", "pred");
        var vt = View(target, "mse_loss", "target", n);
        GlobalSumPieces("mse_loss", vp, vt, GlobalTerm.DiffSquared, n, (float)(1.0 / n), View(loss, "mse_loss", "loss", 1));
    }

    public override void MseLossBackward(DeviceBuffer pred, DeviceBuffer target, DeviceBuffer dloss, DeviceBuffer dpred)
    {
        using var _ = Profile("mse_loss_backward", 3.0 * pred.Length, 12.0 * pred.Length);
        long total = pred.Length;
        if (total == 0) return;
        var vp = View(pred, "mse_loss_backward", "pred");
        var vt = View(target, "mse_loss_backward", "target", total);
        var vg = View(dloss, "mse_loss_backward", "dloss", 1);
        var vd = View(dpred, "mse_loss_backward", "dpred", total);
        var k = Cached(ref _mseBackward, a => a.LoadAutoGroupedKernel<Index1D, int, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, float, ArrayView<float>>(ElementwiseKernels.MseLossBackward));
        float scale = (float)(2.0 / total);
        foreach (var (o, n) in FlatPieces(total))
        {
            var (e, s) = GridStride(n);
            Launch("mse_loss_backward", n, () => k(Stream, e, n, s, vp.SubView(o, n), vt.SubView(o, n), vg, scale, vd.SubView(o, n)));
        }
    }

    // ---- building blocks shared by the op families ---------------------------------------------

    /// <summary>
    /// <see cref="GlobalSum"/> over n elements of any count: one launch pair per flat piece, each piece's scaled sum
    /// into its own slot, then the slots summed in order.
    /// </summary>
    internal void GlobalSumPieces(string op, ArrayView<float> x, ArrayView<float> y, int term, long n, float scale, ArrayView<float> result)
    {
        if (n <= _launchFloats)
        {
            GlobalSum(op, x, y, term, (int)n, scale, result);
            return;
        }
        var pieces = FlatPieces(n).ToList();
        using var slots = Allocate(pieces.Count);
        var vs = ((CudaBuffer)slots).View;
        for (int i = 0; i < pieces.Count; i++)
        {
            var (o, len) = pieces[i];
            GlobalSum(op, x.SubView(o, len), y.SubView(o, len), term, len, scale, vs.SubView(i, 1));
        }
        var final = Cached(ref _globalFinal, a => a.LoadKernel<ArrayView<float>, int, float, ArrayView<float>>(ReductionKernels.GlobalFinal));
        Launch(op, $"sum of {pieces.Count} pieces of {n}", () => final(Stream, new KernelConfig(1, ReduceGroup), vs, pieces.Count, 1f, result));
    }

    /// <summary>
    /// <see cref="ChannelSumOf"/> over an [N, C, HW] tensor of any size: per <see cref="ChannelPieces"/> piece, its
    /// channels' sums are added into sum[C0 .. C0 + C) in piece order (sum starts at zero).
    /// </summary>
    internal void ChannelSumPieces(string op, ArrayView<float> x, ArrayView<float> y, int term, ChannelGeometry g, ArrayView<float> sum)
    {
        var pieces = ChannelPieces(op, g).ToList();
        if (pieces.Count == 1)
        {
            ChannelSumOf(op, x, y, term, g, sum);
            return;
        }
        FillView(op, sum.SubView(0, g.C), g.C, 0f);
        using var part = Allocate(g.C);
        var vp = ((CudaBuffer)part).View;
        foreach (var p in pieces)
        {
            ChannelSumOf(op, x.SubView(p.Offset, p.Length), y.SubView(p.Offset, p.Length), term, p.Geometry, vp.SubView(0, p.C));
            AxpyViews(op, 1f, vp.SubView(0, p.C), sum.SubView(p.C0, p.C), p.C);
        }
    }

    /// <summary>result[0] = scale * sum over i &lt; n of the term (two kernels, no host sync).</summary>
    internal void GlobalSum(string op, ArrayView<float> x, ArrayView<float> y, int term, int n, float scale, ArrayView<float> result)
    {
        int blocks = (int)Math.Clamp((n + (long)ReduceGroup - 1) / ReduceGroup, 1, ReduceBlocks);
        using var partials = Allocate(blocks);
        var vp = ((CudaBuffer)partials).View;
        var first = Cached(ref _globalPartials, a => a.LoadKernel<ArrayView<float>, ArrayView<float>, int, int, ArrayView<float>>(ReductionKernels.GlobalPartials));
        var second = Cached(ref _globalFinal, a => a.LoadKernel<ArrayView<float>, int, float, ArrayView<float>>(ReductionKernels.GlobalFinal));
        Launch(op, n, () =>
        {
            first(Stream, new KernelConfig(blocks, ReduceGroup), x, y, term, n, vp);
            second(Stream, new KernelConfig(1, ReduceGroup), vp, blocks, scale, result);
        });
        // Returning the partials to the pool now is safe: everything on this stream runs in order.
    }

    /// <summary>Per-channel partial sums of a term; the caller finishes them and disposes the result.</summary>
    internal ChannelPartialSums ChannelPartials(string op, ArrayView<float> x, ArrayView<float> y, ArrayView<float> center, int term, ChannelGeometry g)
    {
        int splits = ChannelSplits(g);
        int blocks = checked(g.C * splits);
        var partA = Allocate(blocks);
        var partB = Allocate(blocks);
        var va = ((CudaBuffer)partA).View;
        var vb = ((CudaBuffer)partB).View;
        var k = Cached(ref _channelPartials, a => a.LoadKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int, int, int, ArrayView<float>, ArrayView<float>>(ReductionKernels.ChannelPartials));
        Launch(op, g, () => k(Stream, new KernelConfig(blocks, ReduceGroup), x, y, center, term, g.N, g.C, g.HW, splits, va, vb));
        return new ChannelPartialSums(partA, partB, splits);
    }

    /// <summary>sum[c] = sum over the channel of a one-sum term.</summary>
    internal void ChannelSumOf(string op, ArrayView<float> x, ArrayView<float> y, int term, ChannelGeometry g, ArrayView<float> sum)
    {
        using var parts = ChannelPartials(op, x, y, x, term, g);
        var va = parts.A;
        int splits = parts.Splits;
        var k = Cached(ref _channelSumFinal, a => a.LoadAutoGroupedKernel<Index1D, ArrayView<float>, int, float, ArrayView<float>>(ReductionKernels.ChannelSumFinal));
        Launch(op, g, () => k(Stream, new Index1D(g.C), va, splits, 1f, sum));
    }

    /// <summary>
    /// Slices per channel: enough blocks in total to fill the device (C alone is often small, e.g. 2 or 3
    /// output channels), but no slice smaller than a few elements per thread.
    /// </summary>
    private int ChannelSplits(ChannelGeometry g)
    {
        int target = ReduceBlocks;
        // The simulator splits at one element per thread so that small test shapes exercise the split path.
        long bySize = Math.Max(1, g.PerChannel / (IsSimulated ? ReduceGroup : ReduceGroup * 4L));
        long wanted = (target + g.C - 1) / g.C;
        return (int)Math.Clamp(Math.Min(wanted, bySize), 1, 64);
    }

    internal readonly struct ChannelPartialSums(DeviceBuffer a, DeviceBuffer b, int splits) : IDisposable
    {
        public ArrayView<float> A => ((CudaBuffer)a).View;
        public ArrayView<float> B => ((CudaBuffer)b).View;
        public int Splits => splits;

        public void Dispose()
        {
            a.Dispose();
            b.Dispose();
        }
    }
}
