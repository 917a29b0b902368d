using ILGpuSat.Kernels.Cuda;
using NUnit.Framework;
using static ILGpuSat.Kernels.Tests.Cuda.ConvReference;

namespace ILGpuSat.Kernels.Tests.Cuda;

/// <summary>
/// The CUDA backend's implicit-GEMM convolutions on ILGPU's CPU accelerator (128 threads per group, as on a
/// GPU) against direct loops. Shapes are tiny but chosen so that M, N and K are not multiples of the 64x128x8
/// tile, with more than one tile in M and N somewhere, stride-2 phases without taps, dilation with stride,
/// and split-K in the weight gradient.
/// </summary>
[TestFixture]
[NonParallelizable]
public class ConvTests
{
    private const double Tolerance = 1e-4;
    private CudaBackend _gpu = null!;

    [OneTimeSetUp]
    public void CreateBackend() => _gpu = Backends.CreateCudaSimulator(warpSize: 32, warpsPerGroup: 4);

    [OneTimeTearDown]
    public void DisposeBackend() => _gpu.Dispose();

    /// <summary>(N, C, H, W, K, R, S, stride, pad, dilation); named so that a failure says which shape.</summary>
    public static IEnumerable<TestCaseData> Geometries()
    {
        yield return Case("3x3 pad 1, batch 1, 3 channels, odd 7x9", 1, 3, 7, 9, 5, 3, 3, 1, 1, 1);
        yield return Case("3x3 stride 2 pad 1, 33 channels, K=297, M=70 (two row tiles)", 3, 33, 7, 9, 70, 3, 3, 2, 1, 1);
        yield return Case("3x3 dilation 2 pad 2, 1 channel", 3, 1, 9, 7, 4, 3, 3, 1, 2, 2);
        yield return Case("1x1, 33 channels, N*P=189 (two column tiles)", 3, 33, 9, 7, 3, 1, 1, 1, 0, 1);
        yield return Case("4x4 stride 2 pad 1", 2, 3, 8, 7, 6, 4, 4, 2, 1, 1);
        yield return Case("1x1 stride 2 (phases without taps)", 2, 5, 7, 9, 4, 1, 1, 2, 0, 1);
        yield return Case("3x3 stride 2 dilation 2 pad 0", 1, 2, 9, 9, 3, 3, 3, 2, 0, 2);
        yield return Case("3x3 pad 1, 8x12 (vector-store epilogue), M=65", 2, 4, 8, 12, 65, 3, 3, 1, 1, 1);
        yield return Case("5x5 pad 2 on 3x4, one output channel", 2, 3, 3, 4, 1, 5, 5, 1, 2, 1);
        // Channel counts that are multiples of 8 take the tap-major kernel (forward: C, data gradient: K).
        yield return Case("tap-major: 3x3 stride 2 pad 1, 16 -> 72 channels", 2, 16, 7, 9, 72, 3, 3, 2, 1, 1);
        yield return Case("tap-major: 3x3 dilation 2 pad 2, 8 -> 8 channels, 8x12", 2, 8, 8, 12, 8, 3, 3, 1, 2, 2);
        // Output widths that are multiples of 8 take the row-slice kernel in the weight gradient.
        yield return Case("row-slice: 3x3 pad 1 on 5x16, 3 -> 5 channels", 2, 3, 5, 16, 5, 3, 3, 1, 1, 1);
        yield return Case("row-slice: 3x3 stride 2 pad 1 on 7x16 (output width 8)", 1, 2, 7, 16, 3, 3, 3, 2, 1, 1);
    }

    private static TestCaseData Case(string name, int n, int c, int h, int w, int k, int r, int s, int stride, int pad, int dil) =>
        new TestCaseData(new Conv2dGeometry(n, c, h, w, k, r, s, stride, stride, pad, pad, dil, dil)).SetArgDisplayNames(name);

    private float[] Run(long outLength, Action<DeviceBuffer> op)
    {
        using var y = _gpu.Allocate(outLength);
        _gpu.Upload(Enumerable.Repeat(float.NaN, (int)outLength).ToArray(), y); // every element must be written
        op(y);
        var result = new float[outLength];
        _gpu.Download(y, result);
        return result;
    }

    private DeviceBuffer Put(float[] data)
    {
        var b = _gpu.Allocate(data.Length);
        _gpu.Upload(data, b);
        return b;
    }

    [TestCaseSource(nameof(Geometries))]
    public void ForwardMatchesDirectConvolution(Conv2dGeometry g)
    {
        var rng = new Random(1);
        float[] x = Random(rng, g.InputLength), w = Random(rng, g.WeightLength), bias = Random(rng, g.OutC);
        using var xb = Put(x);
        using var wb = Put(w);
        using var bb = Put(bias);
        var withBias = Run(g.OutputLength, y => _gpu.Conv2d(xb, wb, bb, g, y));
        var noBias = Run(g.OutputLength, y => _gpu.Conv2d(xb, wb, null, g, y));
        Assert.That(RelativeError(withBias, Forward(g, x, w, bias)), Is.LessThanOrEqualTo(Tolerance), "with bias");
        Assert.That(RelativeError(noBias, Forward(g, x, w, null)), Is.LessThanOrEqualTo(Tolerance), "without bias");
    }

    [TestCaseSource(nameof(Geometries))]
    public void BackwardDataMatchesDirectAdjoint(Conv2dGeometry g)
    {
        var rng = new Random(2);
        float[] dy = Random(rng, g.OutputLength), w = Random(rng, g.WeightLength);
        using var dyb = Put(dy);
        using var wb = Put(w);
        var dx = Run(g.InputLength, d => _gpu.Conv2dBackwardData(dyb, wb, g, d));
        Assert.That(RelativeError(dx, BackwardData(g, dy, w)), Is.LessThanOrEqualTo(Tolerance));
    }

    [TestCaseSource(nameof(Geometries))]
    public void BackwardWeightMatchesDirectAdjoint(Conv2dGeometry g)
    {
        var rng = new Random(3);
        float[] x = Random(rng, g.InputLength), dy = Random(rng, g.OutputLength);
        using var xb = Put(x);
        using var dyb = Put(dy);
        var (dwRef, dbRef) = BackwardWeight(g, x, dy);
        using var db = _gpu.Allocate(g.OutC);
        var dw = Run(g.WeightLength, d => _gpu.Conv2dBackwardWeight(xb, dyb, g, d, db));
        var dbias = new float[g.OutC];
        _gpu.Download(db, dbias);
        Assert.That(RelativeError(dw, dwRef), Is.LessThanOrEqualTo(Tolerance), "dw");
        Assert.That(RelativeError(dbias, dbRef), Is.LessThanOrEqualTo(Tolerance), "dbias");
    }

    [TestCase(12, 12, TestName = "BackwardWeightSumsSplitKSlices (general walk)")]
    [TestCase(8, 16, TestName = "BackwardWeightSumsSplitKSlices (row-slice walk)")]
    public void BackwardWeightSumsSplitKSlices(int h, int w)
    {
        // K = N*P*Q = 432 or 384 rows: the simulator plan cuts it into several slices summed by a second pass.
        // (Also the path without dbias.)
        var g = new Conv2dGeometry(3, 2, h, w, 3, 3, 3, PadH: 1, PadW: 1);
        var rng = new Random(4);
        float[] x = Random(rng, g.InputLength), dy = Random(rng, g.OutputLength);
        using var xb = Put(x);
        using var dyb = Put(dy);
        var dw = Run(g.WeightLength, d => _gpu.Conv2dBackwardWeight(xb, dyb, g, d, null));
        Assert.That(RelativeError(dw, BackwardWeight(g, x, dy).Dw), Is.LessThanOrEqualTo(Tolerance));
    }

    [TestCase(1, 1, 0, TestName = "ConvTranspose 3x3 stride 1 pad 1 (SR decoder)")]
    [TestCase(2, 1, 0, TestName = "ConvTranspose 4x4 stride 2 pad 1 (feedback deconv)")]
    [TestCase(2, 1, 1, TestName = "ConvTranspose 3x3 stride 2 pad 1 output_padding 1")]
    [TestCase(2, 1, 0, 16, TestName = "ConvTranspose 4x4 stride 2 pad 1, 16 input channels (tap-major)")]
    public void TransposedConvolutionMatchesItsDefinition(int stride, int pad, int outPad, int inC = 3)
    {
        int kernel = stride == 2 && outPad == 0 ? 4 : 3;
        int n = 2, inH = 5, inW = 4, outC = 4;
        var rng = new Random(5);
        float[] x = Random(rng, n * inC * inH * inW), w = Random(rng, inC * outC * kernel * kernel);
        var expected = ConvTranspose(n, inC, inH, inW, outC, kernel, kernel, x, w, stride, pad, outPad, 1, out int outH, out int outW);
        var g = Conv2dGeometry.ForTranspose(n, inC, inH, inW, outC, kernel, kernel, stride, stride, pad, pad, outPad, outPad);
        Assert.That((g.InH, g.InW), Is.EqualTo((outH, outW)));
        using var xb = Put(x);
        using var wb = Put(w);
        var y = Run(g.InputLength, d => _gpu.Conv2dBackwardData(xb, wb, g, d));
        Assert.That(RelativeError(y, expected), Is.LessThanOrEqualTo(Tolerance));
    }

    public static IEnumerable<TestCaseData> FusedCases()
    {
        foreach (var c in FusedConvCases.All())
            foreach (int width in new[] { 6, 8 })
                yield return new TestCaseData(c.Act, c.Slope, c.PerChannelPrelu, c.PostAffine, width)
                    .SetArgDisplayNames(c.Name, width == 8 ? "vector stores" : "scalar stores");
    }

    [TestCaseSource(nameof(FusedCases))]
    public void FusedEpilogueMatchesTheUnfusedOps(ConvActivation act, float slope, bool perChannelPrelu, bool postAffine, int width)
    {
        var g = new Conv2dGeometry(2, 5, 7, width, 67, 3, 3, 1, 1, 1, 1);
        var rng = new Random(6);
        float[] x = Random(rng, g.InputLength), w = Random(rng, g.WeightLength), bias = Random(rng, g.OutC);
        float[]? prelu = act == ConvActivation.PRelu ? Random(rng, perChannelPrelu ? g.OutC : 1) : null;
        var (scale, shift) = FusedConvCases.PostAffine(rng, g.OutC);
        using var xb = Put(x);
        using var wb = Put(w);
        using var bb = Put(bias);
        using var pb = prelu is null ? null : Put(prelu);
        using var sb = Put(scale);
        using var tb = Put(shift);
        var epilogue = new ConvEpilogue(bb, act, slope, pb, postAffine ? sb : null, postAffine ? tb : null);
        var y = Run(g.OutputLength, d => _gpu.Conv2dFused(xb, wb, g, epilogue, d));

        var expected = Forward(g, x, w, bias);
        FusedConvCases.Apply(expected, g.OutC, g.OutH * g.OutW, act, slope, prelu, postAffine ? scale : null, postAffine ? shift : null);
        Assert.That(RelativeError(y, expected), Is.LessThanOrEqualTo(Tolerance));
    }

    [Test]
    public void MatchesTheCpuBackend()
    {
        // Same shape through both backends (the CPU backend is the engine's reference implementation).
        var g = new Conv2dGeometry(2, 4, 6, 7, 5, 3, 3, 2, 2, 1, 1);
        var rng = new Random(7);
        float[] x = Random(rng, g.InputLength), w = Random(rng, g.WeightLength), dy = Random(rng, g.OutputLength);
        using var cpu = new ILGpuSat.Kernels.Cpu.CpuBackend();
        float[] CpuRun(long len, Action<ILGpuSat.Kernels.Cpu.CpuBackend, DeviceBuffer, DeviceBuffer, DeviceBuffer, DeviceBuffer> op)
        {
            using var xc = cpu.Allocate(x.Length); cpu.Upload(x, xc);
            using var wc = cpu.Allocate(w.Length); cpu.Upload(w, wc);
            using var dyc = cpu.Allocate(dy.Length); cpu.Upload(dy, dyc);
            using var o = cpu.Allocate(len);
            op(cpu, xc, wc, dyc, o);
            var r = new float[len];
            cpu.Download(o, r);
            return r;
        }
        using var xb = Put(x);
        using var wb = Put(w);
        using var dyb = Put(dy);
        Assert.That(RelativeError(Run(g.OutputLength, o => _gpu.Conv2d(xb, wb, null, g, o)),
            CpuRun(g.OutputLength, (b, xc, wc, _, o) => b.Conv2d(xc, wc, null, g, o))), Is.LessThanOrEqualTo(Tolerance), "forward");
        Assert.That(RelativeError(Run(g.InputLength, o => _gpu.Conv2dBackwardData(dyb, wb, g, o)),
            CpuRun(g.InputLength, (b, _, wc, dyc, o) => b.Conv2dBackwardData(dyc, wc, g, o))), Is.LessThanOrEqualTo(Tolerance), "backward data");
        Assert.That(RelativeError(Run(g.WeightLength, o => _gpu.Conv2dBackwardWeight(xb, dyb, g, o, null)),
            CpuRun(g.WeightLength, (b, xc, _, dyc, o) => b.Conv2dBackwardWeight(xc, dyc, g, o, null))), Is.LessThanOrEqualTo(Tolerance), "backward weight");
    }

    [TestCase("conv2d_fused_prelu")]
    [TestCase("conv2d_fused_relu_affine")]
    public void FusedConvolutionSelfTestMatchesCpuBackend(string op)
    {
        using var cpu = new ILGpuSat.Kernels.Cpu.CpuBackend();
        var row = KernelSelfTest.RunOp(op, _gpu, cpu, new SelfTestShape(2, 3, 6, 5));
        Assert.That(row, Is.Not.Null);
        Assert.That(row!.Error, Is.Null, row.Error);
        Assert.That(row.Pass, Is.True, $"{op}: max relative error {row.MaxRelError}");
    }

    [Test]
    public void TheConvolutionGuardAgreesWithTheTensorLimit()
    {
        // Exactly 2^30 floats is the per-launch limit of one image and allowed by both guards; one row more is not.
        var atLimit = new Conv2dGeometry(1, 1, 32768, 32768, 1, 1, 1);
        Assert.That(atLimit.InputLength, Is.EqualTo(CudaBackend.MaxElements));
        Assert.DoesNotThrow(() => ILGpuSat.Kernels.Cuda.Conv.ConvGemmPlan.CheckIndexRange("conv2d", atLimit));
        Assert.DoesNotThrow(() => CudaBackend.Count("conv2d", atLimit.InputLength));
        var over = atLimit with { InH = 32769 };
        var e = Assert.Throws<ArgumentException>(() => ILGpuSat.Kernels.Cuda.Conv.ConvGemmPlan.CheckIndexRange("conv2d", over));
        Assert.That(e!.Message, Does.Contain("1073741824").And.Contain("2^30"));
        e = Assert.Throws<ArgumentException>(() => CudaBackend.Count("batch_norm_train", over.InputLength));
        Assert.That(e!.Message, Does.Contain("1073741824").And.Contain("2^30"));
    }

    [Test]
    public void BadInputIsRejectedWithTheOpName()
    {
        var g = new Conv2dGeometry(1, 2, 5, 5, 3, 3, 3);
        using var x = _gpu.Allocate(g.InputLength);
        using var w = _gpu.Allocate(g.WeightLength - 1);
        using var y = _gpu.Allocate(g.OutputLength);
        var ex = Assert.Throws<ArgumentException>(() => _gpu.Conv2d(x, w, null, g, y));
        Assert.That(ex!.Message, Does.Contain("conv2d").And.Contain("weight"));
        using var slope = _gpu.Allocate(2);
        using var wOk = _gpu.Allocate(g.WeightLength);
        ex = Assert.Throws<ArgumentException>(() => _gpu.Conv2dFused(x, wOk, g, new ConvEpilogue(Activation: ConvActivation.PRelu, PreluWeight: slope), y));
        Assert.That(ex!.Message, Does.Contain("PReLU"));
        using var shift = _gpu.Allocate(g.OutC);
        ex = Assert.Throws<ArgumentException>(() => _gpu.Conv2dFused(x, wOk, g, new ConvEpilogue(Activation: ConvActivation.LeakyRelu, NegativeSlope: 0.1f, PostShift: shift), y));
        Assert.That(ex!.Message, Does.Contain("post-activation"));
    }
}
