using ILGPU;
using ILGPU.Runtime;
using ILGpuSat.Kernels.Cuda.Ops;

namespace ILGpuSat.Kernels.Cuda;

// Optimizer steps: one kernel per parameter tensor, state updated in place on the device.
public sealed partial class CudaBackend
{
    private Action<AcceleratorStream, Index1D, int, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, SgdArgs>? _sgd;
    private Action<AcceleratorStream, Index1D, int, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, AdamScalars>? _adam;
    private Action<AcceleratorStream, Index1D, int, int, ArrayView<float>, ArrayView<float>, float>? _clip;

    public override void SgdStep(DeviceBuffer param, DeviceBuffer grad, DeviceBuffer? momentumBuffer,
        float lr, float momentum, float dampening, float weightDecay, bool nesterov, bool firstStep)
    {
        const string op = "sgd_step";
        using var _ = Profile(op, 6.0 * param.Length, 20.0 * param.Length);
        long total = param.Length;
        if (nesterov && (momentum <= 0 || dampening != 0))
            throw new ArgumentException($"{op}: Nesterov momentum requires a momentum and zero dampening.");
        var vp = View(param, op, "param");
        var vg = View(grad, op, "grad", total);
        bool hasMomentum = momentumBuffer is not null && momentum != 0;
        var vb = hasMomentum ? View(momentumBuffer!, op, "momentumBuffer", total) : vp;
        var args = new SgdArgs
        {
            Lr = lr, Momentum = momentum, OneMinusDampening = (float)(1.0 - AdamScalars.AsWritten(dampening)), WeightDecay = weightDecay,
            Nesterov = nesterov ? 1 : 0, FirstStep = firstStep ? 1 : 0, HasMomentum = hasMomentum ? 1 : 0,
        };
        var k = Cached(ref _sgd, a => a.LoadAutoGroupedKernel<Index1D, int, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, SgdArgs>(ElementwiseKernels.SgdStep));
        foreach (var (o, n) in FlatPieces(total))
        {
            var (e, s) = GridStride(n);
            var pb = hasMomentum ? vb.SubView(o, n) : vp.SubView(o, n);
            Launch(op, n, () => k(Stream, e, n, s, vp.SubView(o, n), vg.SubView(o, n), pb, args));
        }
    }

    public override void AdamStep(DeviceBuffer param, DeviceBuffer grad, DeviceBuffer m, DeviceBuffer v,
        float lr, float beta1, float beta2, float eps, float weightDecay, bool decoupled, int step)
    {
        const string op = "adam_step";
        using var _ = Profile(op, 14.0 * param.Length, 28.0 * param.Length);
        long total = param.Length;
        if (step < 1) throw new ArgumentException($"{op}: step counts from 1, got {step}.");
        var vp = View(param, op, "param");
        var vg = View(grad, op, "grad", total);
        var vm = View(m, op, "m", total);
        var vv = View(v, op, "v", total);
        var args = AdamScalars.For(lr, beta1, beta2, eps, weightDecay, decoupled, step); // as the CPU backend
        var k = Cached(ref _adam, a => a.LoadAutoGroupedKernel<Index1D, int, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, AdamScalars>(ElementwiseKernels.AdamStep));
        foreach (var (o, n) in FlatPieces(total))
        {
            var (e, s) = GridStride(n);
            Launch(op, n, () => k(Stream, e, n, s, vp.SubView(o, n), vg.SubView(o, n), vm.SubView(o, n), vv.SubView(o, n), args));
        }
    }

    public override void ClipByGlobalNorm(DeviceBuffer grad, DeviceBuffer sumOfSquares, float maxNorm)
    {
        const string op = "clip_by_global_norm";
        using var _ = Profile(op, grad.Length, 8.0 * grad.Length);
        var vg = View(grad, op, "grad");
        var vs = View(sumOfSquares, op, "sumOfSquares", 1);
        var k = Cached(ref _clip, a => a.LoadAutoGroupedKernel<Index1D, int, int, ArrayView<float>, ArrayView<float>, float>(ElementwiseKernels.ClipByGlobalNorm));
        foreach (var (o, n) in FlatPieces(grad.Length))
        {
            var (e, s) = GridStride(n);
            Launch(op, n, () => k(Stream, e, n, s, vg.SubView(o, n), vs, maxNorm));
        }
    }
}
