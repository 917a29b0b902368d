using ILGPU;
using ILGPU.Runtime;
using ILGpuSat.Kernels.Cuda.Ops;

namespace ILGpuSat.Kernels.Cuda;

// exp, log, sigmoid, softplus and their gradients (Ops/PointwiseKernels.cs).
public sealed partial class CudaBackend
{
    private Action<AcceleratorStream, Index1D, int, int, ArrayView<float>, int, ArrayView<float>>? _pointwise;
    private Action<AcceleratorStream, Index1D, int, int, ArrayView<float>, ArrayView<float>, int, ArrayView<float>>? _pointwiseBackward;

    public override void Pointwise(PointwiseFunction f, DeviceBuffer x, DeviceBuffer y)
    {
        string op = PointwiseFunctions.Name(f);
        using var _ = Profile(op, 20.0 * y.Length, 8.0 * y.Length);
        var vx = View(x, op, "x", y.Length);
        var vy = View(y, op, "y");
        var k = Cached(ref _pointwise, a => a.LoadAutoGroupedKernel<Index1D, int, int, ArrayView<float>, int, ArrayView<float>>(PointwiseKernels.Forward));
        foreach (var (o, n) in FlatPieces(y.Length))
        {
            var (e, s) = GridStride(n);
            Launch(op, n, () => k(Stream, e, n, s, vx.SubView(o, n), (int)f, vy.SubView(o, n)));
        }
    }

    public override void PointwiseBackward(PointwiseFunction f, DeviceBuffer saved, DeviceBuffer dy, DeviceBuffer dx)
    {
        string op = PointwiseFunctions.Name(f) + "_backward";
        using var _ = Profile(op, 20.0 * dx.Length, 12.0 * dx.Length);
        var vs = View(saved, op, "saved", dx.Length);
        var vdy = View(dy, op, "dy", dx.Length);
        var vdx = View(dx, op, "dx");
        var k = Cached(ref _pointwiseBackward, a => a.LoadAutoGroupedKernel<Index1D, int, int, ArrayView<float>, ArrayView<float>, int, ArrayView<float>>(PointwiseKernels.Backward));
        foreach (var (o, n) in FlatPieces(dx.Length))
        {
            var (e, s) = GridStride(n);
            Launch(op, n, () => k(Stream, e, n, s, vs.SubView(o, n), vdy.SubView(o, n), (int)f, vdx.SubView(o, n)));
        }
    }
}
