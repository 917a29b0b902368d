using ILGPU;
using ILGPU.Runtime;
using ILGpuSat.Kernels.Cuda.Conv;

namespace ILGpuSat.Kernels.Cuda;

// Convolutions as implicit GEMMs (Kernels/Cuda/Conv/): forward with a fused per-channel epilogue, the data
// gradient (also the transposed convolution) as one GEMM per stride phase, and the weight gradient as a
// split-K GEMM whose slices are summed in a fixed order, with the bias gradient as per-(channel, image)
// plane sums added in order. No float atomics: results are deterministic. ConvGemmPlan picks, per launch,
// the kernel whose K walk fits the geometry (general, tap-major, row-slice).
public sealed partial class CudaBackend
{
    private Action<AcceleratorStream, KernelConfig, ConvGemmParams, ArrayView<float>, ArrayView<float>, ArrayView<float>,
        ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>>? _convGemm, _convGemmTapMajor, _convGemmRowSlice;
    private Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, int, int, int>? _convSumSplits;
    private Action<AcceleratorStream, KernelConfig, ArrayView<float>, ArrayView<float>, int, int>? _convPlaneSums;

    public override void Conv2d(DeviceBuffer x, DeviceBuffer w, DeviceBuffer? bias, Conv2dGeometry g, DeviceBuffer y)
    {
        using var _ = Profile("conv2d_fwd", g.Flops, 4.0 * (g.InputLength + g.WeightLength + g.OutputLength));
        ConvForward("conv2d", x, w, bias, null, null, null, g, y);
    }

    /// <summary>
    /// Inference convolution with bias, activation and post-affine in the GEMM's epilogue (see
    /// <see cref="ConvEpilogue"/>): ReLU and LeakyReLU are a constant slope, PReLU reads its weight, and a
    /// post-affine after ReLU (Zhang's conv, ReLU, BN) is written as v*scale + shift clamped at shift.
    /// </summary>
    public override void Conv2dFused(DeviceBuffer x, DeviceBuffer w, Conv2dGeometry g, in ConvEpilogue epilogue, DeviceBuffer y)
    {
        const string op = "conv2d_fused";
        using var _ = Profile(op, g.Flops, 4.0 * (g.InputLength + g.WeightLength + g.OutputLength));
        g.Validate(op);
        epilogue.Validate(op, g.OutC);
        var e = epilogue;
        var (preluMode, slope) = e.Activation switch
        {
            ConvActivation.PRelu => (e.PreluWeight!.Length == 1 ? 1 : 2, 0f),
            ConvActivation.LeakyRelu => (3, e.NegativeSlope),
            ConvActivation.Relu when e.PostScale is null && e.PostShift is null => (3, 0f),
            _ => (0, 0f),
        };
        bool clamp = e.Activation == ConvActivation.Relu && (e.PostScale is not null || e.PostShift is not null);
        ConvForward(op, x, w, e.Bias, e.PostScale, e.PostShift, e.PreluWeight, g, y, preluMode, slope, clamp);
    }

    private void ConvForward(string op, DeviceBuffer x, DeviceBuffer w, DeviceBuffer? bias, DeviceBuffer? scale, DeviceBuffer? shift,
        DeviceBuffer? preluWeight, Conv2dGeometry g, DeviceBuffer y, int preluMode = 0, float slope = 0f, bool clampAtShift = false)
    {
        g.Validate(op);
        var xv = View(x, op, "x", g.InputLength);
        var wv = View(w, op, "weight", g.WeightLength);
        var yv = View(y, op, "y", g.OutputLength);
        var bv = bias is null ? yv : View(bias, op, "bias", g.OutC);
        var sv = scale is null ? yv : View(scale, op, "scale", g.OutC);
        var tv = shift is null ? yv : View(shift, op, "shift", g.OutC);
        var pv = preluWeight is null ? yv : View(preluWeight, op, "preluWeight");
        foreach (var (gi, xi, yi) in ImageBatches(op, g, xv, yv))
        {
            var launch = ConvGemmPlan.Forward(gi);
            var p = launch.Params;
            p.HasBias = bias is null ? 0 : 1;
            p.HasScale = scale is null ? 0 : 1;
            p.HasShift = shift is null ? 0 : 1;
            p.PreluMode = preluMode;
            p.Slope = slope;
            p.ClampAtShift = clampAtShift ? 1 : 0;
            RunConvGemm(op, gi, launch with { Params = p }, wv, xi, yi, bias is null ? yi : bv, scale is null ? yi : sv, shift is null ? yi : tv, preluWeight is null ? yi : pv);
        }
    }

    /// <summary>
    /// The convolution cut into batches of whole images, each within one launch's 32-bit indexing (the input's
    /// and output's sub-views start at 64-bit offsets); one image past it, or a weight tensor past it, is refused.
    /// </summary>
    private IEnumerable<(Conv2dGeometry G, ArrayView<float> Input, ArrayView<float> Output)> ImageBatches(string op, Conv2dGeometry g,
        ArrayView<float> input, ArrayView<float> output)
    {
        ConvGemmPlan.CheckIndexRange(op, g with { N = 1 }, _launchFloats);
        long inImage = (long)g.InC * g.InH * g.InW, outImage = (long)g.OutC * g.OutH * g.OutW;
        foreach (var (first, count) in ItemGroups(op, "image", g.N, Math.Max(inImage, outImage)))
            yield return (g with { N = count }, input.SubView(first * inImage, count * inImage), output.SubView(first * outImage, count * outImage));
    }

    public override void Conv2dBackwardData(DeviceBuffer dy, DeviceBuffer w, Conv2dGeometry g, DeviceBuffer dx)
    {
        const string op = "conv2d_backward_data";
        using var _ = Profile("conv2d_bwd_data", g.Flops, 4.0 * (g.InputLength + g.WeightLength + g.OutputLength));
        g.Validate(op);
        var dyv = View(dy, op, "dy", g.OutputLength);
        var wv = View(w, op, "weight", g.WeightLength);
        var dxv = View(dx, op, "dx", g.InputLength);
        foreach (var (gi, dxi, dyi) in ImageBatches(op, g, dxv, dyv))
            foreach (var launch in ConvGemmPlan.BackwardData(gi))
                RunConvGemm(op, gi, launch, wv, dyi, dxi, dxi, dxi, dxi, dxi);
    }

    public override void Conv2dBackwardWeight(DeviceBuffer x, DeviceBuffer dy, Conv2dGeometry g, DeviceBuffer dw, DeviceBuffer? dbias)
    {
        const string op = "conv2d_backward_weight";
        using var _ = Profile("conv2d_bwd_weight", g.Flops, 4.0 * (g.InputLength + g.WeightLength + g.OutputLength));
        g.Validate(op);
        var xv = View(x, op, "x", g.InputLength);
        var dyv = View(dy, op, "dy", g.OutputLength);
        var dwv = View(dw, op, "dw", g.WeightLength);
        var dbv = dbias is null ? dwv : View(dbias, op, "dbias", g.OutC);
        var batches = ImageBatches(op, g, xv, dyv).ToList();
        if (batches.Count == 1)
        {
            BackwardWeightBatch(op, xv, dyv, g, dwv, dbias is null ? null : dbv);
            return;
        }
        // Batches of images: the first writes dw (and dbias), each later one its own gradient, added in order.
        using var dwPart = Allocate(g.WeightLength);
        using var dbPart = Allocate(g.OutC);
        var dwp = ((CudaBuffer)dwPart).View.SubView(0, g.WeightLength);
        var dbp = ((CudaBuffer)dbPart).View.SubView(0, g.OutC);
        for (int i = 0; i < batches.Count; i++)
        {
            var (gi, xi, dyi) = batches[i];
            bool first = i == 0;
            BackwardWeightBatch(op, xi, dyi, gi, first ? dwv : dwp, dbias is null ? null : first ? dbv : dbp);
            if (first) continue;
            AxpyViews(op, 1f, dwp, dwv.SubView(0, g.WeightLength), (int)g.WeightLength);
            if (dbias is not null) AxpyViews(op, 1f, dbp, dbv.SubView(0, g.OutC), g.OutC);
        }
    }

    private void BackwardWeightBatch(string op, ArrayView<float> xv, ArrayView<float> dyv, Conv2dGeometry g, ArrayView<float> dwv, ArrayView<float>? dbiasView)
    {
        bool hasBias = dbiasView is not null;
        var dbv = dbiasView ?? dwv;

        // About four blocks per multiprocessor; the simulator gets few slices (but more than one, to test the reduction).
        int target = IsSimulated ? 4 : _accelerator.NumMultiprocessors * 4;
        var launch = ConvGemmPlan.BackwardWeight(g, target);
        int len = launch.Params.M * launch.Params.N;
        if (launch.Splits == 1)
        {
            RunConvGemm(op, g, launch, dyv, xv, dwv, dwv, dwv, dwv, dwv);
        }
        else
        {
            if ((long)launch.Splits * len > MaxElements)
                throw new ArgumentException($"{op}: {launch.Splits} split-K slices of {len} weights exceed the 32-bit indexing limit of {MaxElements} (2^30) floats.");
            // Disposed (back to the pool) before the kernels finish: safe, as every later use of the memory
            // is queued on the same in-order stream.
            using var partial = Allocate((long)launch.Splits * len);
            var pv = View(partial, op, "split-K workspace");
            RunConvGemm(op, g, launch, dyv, xv, pv, pv, pv, pv, pv);
            var sum = SumSplitsKernel();
            int splits = launch.Splits;
            var (extent, stride) = GridStride(len);
            Launch(op, $"sum of {splits} slices of {len} weights", () => sum(Stream, extent, pv, dwv, len, splits, stride));
        }

        if (hasBias)
        {
            if (_accelerator.MaxNumThreadsPerGroup < ConvReduceKernels.BiasThreads)
                throw new NotSupportedException($"{op}: the bias gradient needs {ConvReduceKernels.BiasThreads} threads per group; {_accelerator.Name} allows {_accelerator.MaxNumThreadsPerGroup}.");
            // One block per (channel, image) plane, then the N plane sums of each channel in order.
            var planeSums = Cached(ref _convPlaneSums, a => a.LoadKernel<ArrayView<float>, ArrayView<float>, int, int>(ConvReduceKernels.PlaneSums));
            var sum = SumSplitsKernel();
            int n = g.N, c = g.OutC, pixels = g.OutH * g.OutW;
            using var partial = Allocate((long)n * c);
            var pv = View(partial, op, "plane sums");
            Launch(op, $"dbias over [{n},{c},{pixels}]", () => planeSums(Stream, new KernelConfig(new Index2D(c, n), new Index2D(ConvReduceKernels.BiasThreads, 1)), dyv, pv, c, pixels));
            var (extent, stride) = GridStride(c);
            Launch(op, $"dbias: sum of {n} plane sums of {c} channels", () => sum(Stream, extent, pv, dbv, c, n, stride));
        }
    }

    private Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, int, int, int> SumSplitsKernel() =>
        Cached(ref _convSumSplits, a => a.LoadAutoGroupedKernel<Index1D, ArrayView<float>, ArrayView<float>, int, int, int>(ConvReduceKernels.SumSplits));

    private void RunConvGemm(string op, Conv2dGeometry g, ConvGemmLaunch launch, ArrayView<float> a, ArrayView<float> src, ArrayView<float> output,
        ArrayView<float> bias, ArrayView<float> scale, ArrayView<float> shift, ArrayView<float> slope)
    {
        if (_accelerator.MaxNumThreadsPerGroup < ConvTile.Threads)
            throw new NotSupportedException($"{op}: the convolution kernels need {ConvTile.Threads} threads per group; {_accelerator.Name} allows {_accelerator.MaxNumThreadsPerGroup} (create the simulator with warpSize * warpsPerGroup >= {ConvTile.Threads}).");
        var kernel = launch.Walk switch
        {
            ConvGemmWalk.TapMajor => Cached(ref _convGemmTapMajor, acc => acc.LoadKernel<ConvGemmParams, ArrayView<float>, ArrayView<float>, ArrayView<float>,
                ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>>(ConvGemmKernel.RunTapMajor)),
            ConvGemmWalk.RowSlice => Cached(ref _convGemmRowSlice, acc => acc.LoadKernel<ConvGemmParams, ArrayView<float>, ArrayView<float>, ArrayView<float>,
                ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>>(ConvGemmKernel.RunRowSlice)),
            _ => Cached(ref _convGemm, acc => acc.LoadKernel<ConvGemmParams, ArrayView<float>, ArrayView<float>, ArrayView<float>,
                ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>>(ConvGemmKernel.Run)),
        };
        var p = launch.Params;
        var config = ConvTile.Config(launch.GridX, launch.GridY, launch.Splits);
        string sizes = $"input [{g.N},{g.InC},{g.InH},{g.InW}], weight [{g.OutC},{g.InC},{g.KH},{g.KW}], GEMM {p.M}x{p.N}x{p.K}";
        Launch(op, sizes, () => kernel(Stream, config, p, a, src, output, bias, scale, shift, slope));
    }
}
