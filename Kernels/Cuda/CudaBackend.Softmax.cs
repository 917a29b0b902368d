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
        int n = Count(op, g.Length);
        int pixels = (int)g.PerChannel;
        var vx = View(x, op, "x", n);
        var vy = View(y, op, "y", n);
        var k = Cached(ref _softmax, a => a.LoadAutoGroupedKernel<Index1D, int, int, ArrayView<float>, int, int, int, ArrayView<float>>(SoftmaxKernels.Softmax));
        var (e, s) = GridStride(pixels);
        int flag = log ? 1 : 0;
        Launch(op, g, () => k(Stream, e, pixels, s, vx, g.C, g.HW, flag, vy));
    }

    private void SoftmaxGrad(string op, DeviceBuffer y, DeviceBuffer dy, ChannelGeometry g, DeviceBuffer dx, bool log)
    {
        using var _ = Profile(op, 4.0 * g.Length, 12.0 * g.Length);
        g.Validate(op);
        int n = Count(op, g.Length);
        int pixels = (int)g.PerChannel;
        var vy = View(y, op, "y", n);
        var vdy = View(dy, op, "dy", n);
        var vdx = View(dx, op, "dx", n);
        var k = Cached(ref _softmaxBackward, a => a.LoadAutoGroupedKernel<Index1D, int, int, ArrayView<float>, ArrayView<float>, int, int, int, ArrayView<float>>(SoftmaxKernels.SoftmaxBackward));
        var (e, s) = GridStride(pixels);
        int flag = log ? 1 : 0;
        Launch(op, g, () => k(Stream, e, pixels, s, vy, vdy, g.C, g.HW, flag, vdx));
    }

    public override void SoftmaxCrossEntropy(DeviceBuffer logits, DeviceBuffer target, DeviceBuffer? weights, ChannelGeometry g, DeviceBuffer loss)
    {
        const string op = "softmax_cross_entropy";
        using var _ = Profile(op, 6.0 * g.Length, 8.0 * g.Length);
        g.Validate(op);
        int n = Count(op, g.Length);
        int pixels = (int)g.PerChannel;
        var vl = View(logits, op, "logits", n);
        var vt = View(target, op, "target", n);
        var vw = weights is null ? vt : View(weights, op, "weights", pixels);
        var vloss = View(loss, op, "loss", 1);
        int hasWeights = weights is null ? 0 : 1;
        int blocks = (int)Math.Clamp((pixels + (long)ReduceGroup - 1) / ReduceGroup, 1, ReduceBlocks);
        using var partials = Allocate(blocks);
        var vp = ((CudaBuffer)partials).View;
        var first = Cached(ref _crossEntropyPartials, a => a.LoadKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int, int, ArrayView<float>>(SoftmaxKernels.CrossEntropyPartials));
        var second = Cached(ref _globalFinal, a => a.LoadKernel<ArrayView<float>, int, float, ArrayView<float>>(ReductionKernels.GlobalFinal));
        float invPixels = (float)(1.0 / pixels);
        Launch(op, g, () =>
        {
            first(Stream, new KernelConfig(blocks, ReduceGroup), vl, vt, vw, hasWeights, pixels, g.C, g.HW, vp);
            second(Stream, new KernelConfig(1, ReduceGroup), vp, blocks, invPixels, vloss);
        });
    }

    public override void SoftmaxCrossEntropyBackward(DeviceBuffer logits, DeviceBuffer target, DeviceBuffer? weights, ChannelGeometry g,
        DeviceBuffer dloss, DeviceBuffer dlogits)
    {
        const string op = "softmax_cross_entropy_backward";
        using var _ = Profile(op, 8.0 * g.Length, 12.0 * g.Length);
        g.Validate(op);
        int n = Count(op, g.Length);
        int pixels = (int)g.PerChannel;
        var vl = View(logits, op, "logits", n);
        var vt = View(target, op, "target", n);
        var vw = weights is null ? vt : View(weights, op, "weights", pixels);
        var vg = View(dloss, op, "dloss", 1);
        var vd = View(dlogits, op, "dlogits", n);
        int hasWeights = weights is null ? 0 : 1;
        var k = Cached(ref _crossEntropyBackward, a => a.LoadAutoGroupedKernel<Index1D, int, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int, ArrayView<float>, float, ArrayView<float>>(SoftmaxKernels.CrossEntropyBackward));
        var (e, s) = GridStride(pixels);
        float invPixels = (float)(1.0 / pixels);
        Launch(op, g, () => k(Stream, e, pixels, s, vl, vt, vw, hasWeights, g.C, g.HW, vg, invPixels, vd));
    }
}
