using ILGPU;
using ILGPU.Runtime;
using ILGpuSat.Kernels.Cuda.Ops;

namespace ILGpuSat.Kernels.Cuda;

// Softmax over channels and the fused soft-target cross-entropy.
public sealed partial class CudaBackend
{
    private Action<AcceleratorStream, Index1D, int, int, ArrayView<float>, int, int, int, ArrayView<float>>? _softmax;
    private Action<AcceleratorStream, Index1D, int, int, ArrayView<float>, ArrayView<float>, int, int, int, ArrayView<float>>? _softmaxBackward;
    private Action<AcceleratorStream, KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int, int, ArrayView<float>>? _crossEntropyPartials;
    private Action<AcceleratorStream, Index1D, int, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int, ArrayView<float>, float, ArrayView<float>>? _crossEntropyBackward;

    public override void Softmax(DeviceBuffer x, ChannelGeometry g, DeviceBuffer y) => SoftmaxForward("softmax", x, g, y, log: false);

    public override void LogSoftmax(DeviceBuffer x, ChannelGeometry g, DeviceBuffer y) => SoftmaxForward("log_softmax", x, g, y, log: true);

    public override void SoftmaxBackward(DeviceBuffer y, DeviceBuffer dy, ChannelGeometry g, DeviceBuffer dx) => SoftmaxGrad("softmax_backward", y, dy, g, dx, log: false);

    public override void LogSoftmaxBackward(DeviceBuffer y, DeviceBuffer dy, ChannelGeometry g, DeviceBuffer dx) => SoftmaxGrad("log_softmax_backward", y, dy, g, dx, log: true);

    private void SoftmaxForward(string op, DeviceBuffer x, ChannelGeometry g, DeviceBuffer y, bool log)
    {
        using var _ = Profile(op, 5.0 * g.Length, 8.0 * g.Length);
        g.Validate(op);
        var vx = View(x, op, "x", g.Length);
        var vy = View(y, op, "y", g.Length);
        var k = Cached(ref _softmax, a => a.LoadAutoGroupedKernel<Index1D, int, int, ArrayView<float>, int, int, int, ArrayView<float>>(SoftmaxKernels.Softmax));
        int flag = log ? 1 : 0;
        foreach (var (o, len, pixels) in PixelPieces(op, g))
        {
            var (e, s) = GridStride(pixels);
            Launch(op, g, () => k(Stream, e, pixels, s, vx.SubView(o, len), g.C, g.HW, flag, vy.SubView(o, len)));
        }
    }

    private void SoftmaxGrad(string op, DeviceBuffer y, DeviceBuffer dy, ChannelGeometry g, DeviceBuffer dx, bool log)
    {
        using var _ = Profile(op, 4.0 * g.Length, 12.0 * g.Length);
        g.Validate(op);
        var vy = View(y, op, "y", g.Length);
        var vdy = View(dy, op, "dy", g.Length);
        var vdx = View(dx, op, "dx", g.Length);
        var k = Cached(ref _softmaxBackward, a => a.LoadAutoGroupedKernel<Index1D, int, int, ArrayView<float>, ArrayView<float>, int, int, int, ArrayView<float>>(SoftmaxKernels.SoftmaxBackward));
        int flag = log ? 1 : 0;
        foreach (var (o, len, pixels) in PixelPieces(op, g))
        {
            var (e, s) = GridStride(pixels);
            Launch(op, g, () => k(Stream, e, pixels, s, vy.SubView(o, len), vdy.SubView(o, len), g.C, g.HW, flag, vdx.SubView(o, len)));
        }
    }

    public override void SoftmaxCrossEntropy(DeviceBuffer logits, DeviceBuffer target, DeviceBuffer? weights, ChannelGeometry g, DeviceBuffer loss)
    {
        const string op = "softmax_cross_entropy";
        using var _ = Profile(op, 6.0 * g.Length, 8.0 * g.Length);
        g.Validate(op);
        var vl = View(logits, op, "logits", g.Length);
        var vt = View(target, op, "target", g.Length);
        var vw = weights is null ? vt : View(weights, op, "weights", g.PerChannel);
        var vloss = View(loss, op, "loss", 1);
        int hasWeights = weights is null ? 0 : 1;
        // Each piece's blocks write their own run of partials; one final pass sums them all in order.
        var pieces = PixelPieces(op, g).ToList();
        var blocks = pieces.Select(p => (int)Math.Clamp((p.Pixels + (long)ReduceGroup - 1) / ReduceGroup, 1, ReduceBlocks)).ToList();
        int total = blocks.Sum();
        using var partials = Allocate(total);
        var vp = ((CudaBuffer)partials).View;
        var first = Cached(ref _crossEntropyPartials, a => a.LoadKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int, int, ArrayView<float>>(SoftmaxKernels.CrossEntropyPartials));
        var second = Cached(ref _globalFinal, a => a.LoadKernel<ArrayView<float>, int, float, ArrayView<float>>(ReductionKernels.GlobalFinal));
        float invPixels = (float)(1.0 / g.PerChannel);
        int at = 0;
        for (int i = 0; i < pieces.Count; i++)
        {
            var (o, len, pixels) = pieces[i];
            int b = blocks[i], slot = at;
            var pw = weights is null ? vw : vw.SubView(o / g.C, pixels);
            Launch(op, g, () => first(Stream, new KernelConfig(b, ReduceGroup), vl.SubView(o, len), vt.SubView(o, len), pw, hasWeights, pixels, g.C, g.HW, vp.SubView(slot, b)));
            at += b;
        }
        Launch(op, g, () => second(Stream, new KernelConfig(1, ReduceGroup), vp, total, invPixels, vloss));
    }

    public override void SoftmaxCrossEntropyBackward(DeviceBuffer logits, DeviceBuffer target, DeviceBuffer? weights, ChannelGeometry g,
        DeviceBuffer dloss, DeviceBuffer dlogits)
    {
        const string op = "softmax_cross_entropy_backward";
        using var _ = Profile(op, 8.0 * g.Length, 12.0 * g.Length);
        g.Validate(op);
        var vl = View(logits, op, "logits", g.Length);
        var vt = View(target, op, "target", g.Length);
        var vw = weights is null ? vt : View(weights, op, "weights", g.PerChannel);
        var vg = View(dloss, op, "dloss", 1);
        var vd = View(dlogits, op, "dlogits", g.Length);
        int hasWeights = weights is null ? 0 : 1;
        var k = Cached(ref _crossEntropyBackward, a => a.LoadAutoGroupedKernel<Index1D, int, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int, ArrayView<float>, float, ArrayView<float>>(SoftmaxKernels.CrossEntropyBackward));
        float invPixels = (float)(1.0 / g.PerChannel);
        foreach (var (o, len, pixels) in PixelPieces(op, g))
        {
            var (e, s) = GridStride(pixels);
            var pw = weights is null ? vw : vw.SubView(o / g.C, pixels);
            Launch(op, g, () => k(Stream, e, pixels, s, vl.SubView(o, len), vt.SubView(o, len), pw, hasWeights, g.C, g.HW, vg, invPixels, vd.SubView(o, len)));
        }
    }

    /// <summary>
    /// Whole images per launch for the per-pixel softmax family: (offset, floats, pixels) of each group. One image
    /// larger than a launch goes alone; the kernels address it in 64 bits.
    /// </summary>
    private IEnumerable<(long Offset, long Length, int Pixels)> PixelPieces(string op, ChannelGeometry g)
    {
        long image = (long)g.C * g.HW;
        foreach (var (first, count) in ItemGroups(op, "image", g.N, image, oversizedItemAlone: true))
            yield return (first * image, count * image, checked(count * g.HW));
    }
}
