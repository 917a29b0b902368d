using ILGPU;
using ILGPU.Runtime;
using ILGpuSat.Kernels.Cuda.Ops;

namespace ILGpuSat.Kernels.Cuda;

// Elementwise ops and activations: one grid-stride kernel each.
public sealed partial class CudaBackend
{
    private Action<AcceleratorStream, Index1D, int, int, ArrayView<float>, float>? _fill;
    private Action<AcceleratorStream, Index1D, int, int, ArrayView<float>, float, ArrayView<float>>? _fillFromScalar, _scale;
    private Action<AcceleratorStream, Index1D, int, int, ArrayView<float>, ArrayView<float>>? _sqrt;
    private Action<AcceleratorStream, Index1D, int, int, ArrayView<float>, ArrayView<float>, ArrayView<float>>? _add, _multiply, _reluBackward;
    private Action<AcceleratorStream, Index1D, int, int, float, ArrayView<float>, ArrayView<float>>? _axpy;
    private Action<AcceleratorStream, Index1D, int, int, ArrayView<float>, ArrayView<float>>? _relu;
    private Action<AcceleratorStream, Index1D, int, int, ArrayView<float>, float, ArrayView<float>>? _leakyRelu;
    private Action<AcceleratorStream, Index1D, int, int, ArrayView<float>, ArrayView<float>, float, ArrayView<float>>? _leakyReluBackward;
    private Action<AcceleratorStream, Index1D, int, int, ArrayView<float>, ArrayView<float>, int, int, int, ArrayView<float>>? _prelu;
    private Action<AcceleratorStream, Index1D, int, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int, ArrayView<float>>? _preluBackwardData;

    public override void Fill(DeviceBuffer y, float value)
    {
        using var _ = Profile("fill", 0, 4.0 * y.Length);
        var vy = View(y, "fill", "y");
        var k = Cached(ref _fill, a => a.LoadAutoGroupedKernel<Index1D, int, int, ArrayView<float>, float>(ElementwiseKernels.Fill));
        foreach (var (o, n) in FlatPieces(y.Length))
        {
            var (e, s) = GridStride(n);
            Launch("fill", n, () => k(Stream, e, n, s, vy.SubView(o, n), value));
        }
    }

    /// <summary>view[0..n) = value, n within one launch.</summary>
    internal void FillView(string op, ArrayView<float> view, int n, float value)
    {
        var k = Cached(ref _fill, a => a.LoadAutoGroupedKernel<Index1D, int, int, ArrayView<float>, float>(ElementwiseKernels.Fill));
        var (e, s) = GridStride(n);
        Launch(op, n, () => k(Stream, e, n, s, view, value));
    }

    public override void FillFromScalar(DeviceBuffer scalar, float scale, DeviceBuffer y)
    {
        using var _ = Profile("fill_from_scalar", 0, 4.0 * y.Length);
        var vs = View(scalar, "fill_from_scalar", "scalar", 1);
        var vy = View(y, "fill_from_scalar", "y");
        var k = Cached(ref _fillFromScalar, a => a.LoadAutoGroupedKernel<Index1D, int, int, ArrayView<float>, float, ArrayView<float>>(ElementwiseKernels.FillFromScalar));
        foreach (var (o, n) in FlatPieces(y.Length))
        {
            var (e, s) = GridStride(n);
            Launch("fill_from_scalar", n, () => k(Stream, e, n, s, vs, scale, vy.SubView(o, n)));
        }
    }

    public override void Copy(DeviceBuffer x, DeviceBuffer y)
    {
        using var _ = Profile("copy", 0, 8.0 * y.Length);
        long n = y.Length;
        var vx = View(x, "copy", "x", n);
        var vy = View(y, "copy", "y");
        if (n == 0 || ReferenceEquals(x, y)) return;
        Launch("copy", n, () => vx.SubView(0, n).CopyTo(Stream, vy.SubView(0, n)));
    }

    public override void Add(DeviceBuffer a, DeviceBuffer b, DeviceBuffer y) => Binary("add", ref _add, ElementwiseKernels.Add, a, b, y);

    public override void Multiply(DeviceBuffer a, DeviceBuffer b, DeviceBuffer y) => Binary("multiply", ref _multiply, ElementwiseKernels.Multiply, a, b, y);

    private void Binary(string op, ref Action<AcceleratorStream, Index1D, int, int, ArrayView<float>, ArrayView<float>, ArrayView<float>>? slot,
        Action<Index1D, int, int, ArrayView<float>, ArrayView<float>, ArrayView<float>> kernel, DeviceBuffer a, DeviceBuffer b, DeviceBuffer y)
    {
        using var _ = Profile(op, y.Length, 12.0 * y.Length);
        var va = View(a, op, "a", y.Length);
        var vb = View(b, op, "b", y.Length);
        var vy = View(y, op, "y");
        var k = Cached(ref slot, acc => acc.LoadAutoGroupedKernel(kernel));
        foreach (var (o, n) in FlatPieces(y.Length))
        {
            var (e, s) = GridStride(n);
            Launch(op, n, () => k(Stream, e, n, s, va.SubView(o, n), vb.SubView(o, n), vy.SubView(o, n)));
        }
    }

    public override void Scale(DeviceBuffer x, float alpha, DeviceBuffer y)
    {
        using var _ = Profile("scale", y.Length, 8.0 * y.Length);
        var vx = View(x, "scale", "x", y.Length);
        var vy = View(y, "scale", "y");
        var k = Cached(ref _scale, a => a.LoadAutoGroupedKernel<Index1D, int, int, ArrayView<float>, float, ArrayView<float>>(ElementwiseKernels.Scale));
        foreach (var (o, n) in FlatPieces(y.Length))
        {
            var (e, s) = GridStride(n);
            Launch("scale", n, () => k(Stream, e, n, s, vx.SubView(o, n), alpha, vy.SubView(o, n)));
        }
    }

    public override void Sqrt(DeviceBuffer x, DeviceBuffer y)
    {
        using var _ = Profile("sqrt", y.Length, 8.0 * y.Length);
        var vx = View(x, "sqrt", "x", y.Length);
        var vy = View(y, "sqrt", "y");
        var k = Cached(ref _sqrt, a => a.LoadAutoGroupedKernel<Index1D, int, int, ArrayView<float>, ArrayView<float>>(ElementwiseKernels.Sqrt));
        foreach (var (o, n) in FlatPieces(y.Length))
        {
            var (e, s) = GridStride(n);
            Launch("sqrt", n, () => k(Stream, e, n, s, vx.SubView(o, n), vy.SubView(o, n)));
        }
    }

    public override void Axpy(float alpha, DeviceBuffer x, DeviceBuffer y)
    {
        using var _ = Profile("axpy", 2.0 * y.Length, 12.0 * y.Length);
        var vx = View(x, "axpy", "x", y.Length);
        var vy = View(y, "axpy", "y");
        var k = AxpyKernel();
        foreach (var (o, n) in FlatPieces(y.Length))
        {
            var (e, s) = GridStride(n);
            Launch("axpy", n, () => k(Stream, e, n, s, alpha, vx.SubView(o, n), vy.SubView(o, n)));
        }
    }

    private Action<AcceleratorStream, Index1D, int, int, float, ArrayView<float>, ArrayView<float>> AxpyKernel() =>
        Cached(ref _axpy, a => a.LoadAutoGroupedKernel<Index1D, int, int, float, ArrayView<float>, ArrayView<float>>(ElementwiseKernels.Axpy));

    /// <summary>y[0..n) += alpha * x[0..n) on views (n within one launch): pieces' sums added in a fixed order.</summary>
    internal void AxpyViews(string op, float alpha, ArrayView<float> x, ArrayView<float> y, int n)
    {
        var k = AxpyKernel();
        var (e, s) = GridStride(n);
        Launch(op, n, () => k(Stream, e, n, s, alpha, x, y));
    }

    // ---- activations ------------------------------------------------------------------------------

    public override void Relu(DeviceBuffer x, DeviceBuffer y)
    {
        using var _ = Profile("relu", y.Length, 8.0 * y.Length);
        var vx = View(x, "relu", "x", y.Length);
        var vy = View(y, "relu", "y");
        var k = Cached(ref _relu, a => a.LoadAutoGroupedKernel<Index1D, int, int, ArrayView<float>, ArrayView<float>>(ElementwiseKernels.Relu));
        foreach (var (o, n) in FlatPieces(y.Length))
        {
            var (e, s) = GridStride(n);
            Launch("relu", n, () => k(Stream, e, n, s, vx.SubView(o, n), vy.SubView(o, n)));
        }
    }

    public override void ReluBackward(DeviceBuffer x, DeviceBuffer dy, DeviceBuffer dx) =>
        Binary("relu_backward", ref _reluBackward, ElementwiseKernels.ReluBackward, x, dy, dx);

    public override void LeakyRelu(DeviceBuffer x, float negativeSlope, DeviceBuffer y)
    {
        using var _ = Profile("leaky_relu", y.Length, 8.0 * y.Length);
        var vx = View(x, "leaky_relu", "x", y.Length);
        var vy = View(y, "leaky_relu", "y");
        var k = Cached(ref _leakyRelu, a => a.LoadAutoGroupedKernel<Index1D, int, int, ArrayView<float>, float, ArrayView<float>>(ElementwiseKernels.LeakyRelu));
        foreach (var (o, n) in FlatPieces(y.Length))
        {
            var (e, s) = GridStride(n);
            Launch("leaky_relu", n, () => k(Stream, e, n, s, vx.SubView(o, n), negativeSlope, vy.SubView(o, n)));
        }
    }

    public override void LeakyReluBackward(DeviceBuffer x, DeviceBuffer dy, float negativeSlope, DeviceBuffer dx)
    {
        using var _ = Profile("leaky_relu_backward", dx.Length, 12.0 * dx.Length);
        var vx = View(x, "leaky_relu_backward", "x", dx.Length);
        var vdy = View(dy, "leaky_relu_backward", "dy", dx.Length);
        var vdx = View(dx, "leaky_relu_backward", "dx");
        var k = Cached(ref _leakyReluBackward, a => a.LoadAutoGroupedKernel<Index1D, int, int, ArrayView<float>, ArrayView<float>, float, ArrayView<float>>(ElementwiseKernels.LeakyReluBackward));
        foreach (var (o, n) in FlatPieces(dx.Length))
        {
            var (e, s) = GridStride(n);
            Launch("leaky_relu_backward", n, () => k(Stream, e, n, s, vx.SubView(o, n), vdy.SubView(o, n), negativeSlope, vdx.SubView(o, n)));
        }
    }

    public override void PRelu(DeviceBuffer x, DeviceBuffer weight, ChannelGeometry g, DeviceBuffer y)
    {
        using var _ = Profile("prelu", g.Length, 8.0 * g.Length);
        g.Validate("prelu");
        int shared = PReluShared("prelu", weight, g);
        var vx = View(x, "prelu", "x", g.Length);
        var vw = View(weight, "prelu", "weight");
        var vy = View(y, "prelu", "y", g.Length);
        var k = Cached(ref _prelu, a => a.LoadAutoGroupedKernel<Index1D, int, int, ArrayView<float>, ArrayView<float>, int, int, int, ArrayView<float>>(ElementwiseKernels.PRelu));
        foreach (var p in ChannelPieces("prelu", g))
        {
            int n = p.Length;
            var (e, s) = GridStride(n);
            var pw = shared != 0 ? vw : vw.SubView(p.C0, p.C);
            Launch("prelu", g, () => k(Stream, e, n, s, vx.SubView(p.Offset, n), pw, p.C, p.HW, shared, vy.SubView(p.Offset, n)));
        }
    }

    public override void PReluBackward(DeviceBuffer x, DeviceBuffer weight, DeviceBuffer dy, ChannelGeometry g, DeviceBuffer dx, DeviceBuffer dweight)
    {
        using var _ = Profile("prelu_backward", 3.0 * g.Length, 16.0 * g.Length);
        g.Validate("prelu_backward");
        int shared = PReluShared("prelu_backward", weight, g);
        var vx = View(x, "prelu_backward", "x", g.Length);
        var vw = View(weight, "prelu_backward", "weight");
        var vdy = View(dy, "prelu_backward", "dy", g.Length);
        var vdx = View(dx, "prelu_backward", "dx", g.Length);
        var vdw = View(dweight, "prelu_backward", "dweight", weight.Length);
        var k = Cached(ref _preluBackwardData, a => a.LoadAutoGroupedKernel<Index1D, int, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int, ArrayView<float>>(ElementwiseKernels.PReluBackwardData));
        foreach (var p in ChannelPieces("prelu_backward", g))
        {
            int n = p.Length;
            var (e, s) = GridStride(n);
            var pw = shared != 0 ? vw : vw.SubView(p.C0, p.C);
            Launch("prelu_backward", g, () => k(Stream, e, n, s, vx.SubView(p.Offset, n), pw, vdy.SubView(p.Offset, n), p.C, p.HW, shared, vdx.SubView(p.Offset, n)));
        }
        if (shared != 0) GlobalSumPieces("prelu_backward", vx, vdy, GlobalTerm.PReluWeight, g.Length, 1f, vdw);
        else ChannelSumPieces("prelu_backward", vx, vdy, ChannelTerm.PReluWeight, g, vdw);
    }

    /// <summary>1 when the PReLU weight is shared by all channels, 0 when it has one value per channel.</summary>
    private static int PReluShared(string op, DeviceBuffer weight, ChannelGeometry g)
    {
        if (weight.Length == 1) return 1;
        if (weight.Length == g.C) return 0;
        throw new ArgumentException($"{op}: weight has {weight.Length} values; PReLU needs 1 (shared) or one per channel ({g.C}).");
    }
}
