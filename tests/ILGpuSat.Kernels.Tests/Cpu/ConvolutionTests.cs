using ILGpuSat.Kernels.Cpu;
using ILGpuSat.Kernels.Cpu.Gemm;
using NUnit.Framework;

namespace ILGpuSat.Kernels.Tests.Cpu;

/// <summary>
/// The CPU convolutions against direct loops written here (double accumulation), on random data
/// with a fixed seed, over odd sizes, strides, dilations, paddings, 1x1/3x3/4x4 kernels, batch
/// 1 and 3, and transposed geometries built with <see cref="Conv2dGeometry.ForTranspose"/>.
/// </summary>
public class ConvolutionTests
{
    private const double Tolerance = 1e-4;

    // (N, InC, H, W, OutC, KH, KW, strideH, strideW, padH, padW, dilH, dilW)
    private static readonly object[] Cases =
    {
        new Conv2dGeometry(1, 1, 7, 9, 1, 3, 3, 1, 1, 1, 1),
        new Conv2dGeometry(3, 3, 7, 9, 5, 3, 3),
        new Conv2dGeometry(1, 3, 8, 8, 4, 1, 1),                         // pointwise: no im2col
        new Conv2dGeometry(1, 3, 5, 5, 4, 1, 1, 1, 1, 1, 1),             // 1x1 with padding: negative pad in the dx rewrite
        new Conv2dGeometry(1, 6, 7, 9, 70, 1, 1, 2, 2),                  // 1x1 stride 2
        new Conv2dGeometry(3, 33, 11, 13, 17, 3, 3, 2, 2, 1, 1),         // stride 2
        new Conv2dGeometry(2, 5, 9, 7, 6, 3, 3, 1, 1, 2, 2, 2, 2),       // dilation 2, padding 2
        new Conv2dGeometry(2, 4, 10, 12, 3, 4, 4, 2, 2, 1, 1),           // 4x4 stride 2
        new Conv2dGeometry(2, 4, 7, 75, 5, 3, 3, 2, 2, 1, 1),            // stride 2 on wide rows: the vector gather
        new Conv2dGeometry(2, 8, 6, 5, 9, 3, 2, 2, 1, 0, 1),             // non-square kernel, mixed stride
        new Conv2dGeometry(1, 7, 9, 9, 5, 3, 3, 2, 2, 1, 1, 2, 2),       // strided and dilated: dx by col2im
        new Conv2dGeometry(1, 313, 5, 6, 33, 3, 3, 1, 1, 1, 1),          // K = 2817 > several depth blocks
        new Conv2dGeometry(2, 24, 20, 26, 20, 3, 3, 1, 1, 1, 1),         // pixels span several column blocks (> NC = 384)
        new Conv2dGeometry(1, 8, 10, 10, 200, 3, 3, 1, 1, 1, 1),         // output channels span several row blocks
    };

    // (n, inC, inH, inW, outC, k, stride, pad, outPad, dil) of conv_transpose2d
    private static readonly object[] TransposeCases =
    {
        new object[] { 2, 5, 4, 5, 3, 3, 2, 1, 1, 1 },
        new object[] { 1, 8, 6, 6, 4, 4, 2, 1, 0, 1 },
        new object[] { 3, 4, 5, 7, 6, 3, 1, 1, 0, 1 },
        new object[] { 1, 3, 4, 4, 2, 3, 3, 0, 2, 1 },
        new object[] { 2, 4, 5, 5, 3, 3, 2, 0, 1, 2 },
        new object[] { 1, 64, 6, 6, 16, 4, 2, 1, 0, 1 },
    };

    [TestCaseSource(nameof(Cases))]
    public void ForwardMatchesDirectLoops(Conv2dGeometry g)
    {
        foreach (bool withBias in new[] { false, true })
        {
            var rng = new Random(1234);
            float[] x = Random(rng, g.InputLength), w = Random(rng, g.WeightLength), b = Random(rng, g.OutC);
            float[]? bias = withBias ? b : null;
            var expected = ReferenceForward(x, w, bias, g);
            using var backend = new CpuBackend { Threads = 3 };
            var actual = RunForward(backend, x, w, bias, g);
            AssertClose(actual, expected, $"conv2d {g} bias={withBias}");
        }
    }

    [TestCaseSource(nameof(Cases))]
    public void BackwardDataMatchesDirectLoops(Conv2dGeometry g)
    {
        var rng = new Random(99);
        float[] dy = Random(rng, g.OutputLength), w = Random(rng, g.WeightLength);
        var expected = ReferenceBackwardData(dy, w, g);
        // 3 threads: strided cases with fewer phases than threads take the phase-after-phase path.
        using var backend = new CpuBackend { Threads = 3 };
        using var bdy = Upload(backend, dy);
        using var bw = Upload(backend, w);
        using var bdx = backend.Allocate(g.InputLength);
        backend.FillViaUpload(bdx, g.InputLength, 7f); // stale contents must be overwritten, not accumulated into
        backend.Conv2dBackwardData(bdy, bw, g, bdx);
        AssertClose(Download(backend, bdx), expected, $"conv2d backward data {g}");
    }

    [TestCaseSource(nameof(Cases))]
    public void BackwardWeightMatchesDirectLoops(Conv2dGeometry g)
    {
        foreach (bool withBias in new[] { false, true })
        {
            var rng = new Random(7);
            float[] x = Random(rng, g.InputLength), dy = Random(rng, g.OutputLength);
            var (expectedW, expectedB) = ReferenceBackwardWeight(x, dy, g);
            using var backend = new CpuBackend { Threads = 2 };
            using var bx = Upload(backend, x);
            using var bdy = Upload(backend, dy);
            using var bdw = backend.Allocate(g.WeightLength);
            using var bdb = backend.Allocate(g.OutC);
            backend.FillViaUpload(bdw, g.WeightLength, 5f);
            backend.FillViaUpload(bdb, g.OutC, 5f);
            backend.Conv2dBackwardWeight(bx, bdy, g, bdw, withBias ? bdb : null);
            AssertClose(Download(backend, bdw), expectedW, $"conv2d backward weight {g}");
            if (withBias) AssertClose(Download(backend, bdb), expectedB, $"conv2d backward bias {g}");
        }
    }

    [TestCaseSource(nameof(TransposeCases))]
    public void TransposedConvolutionMatchesDirectLoops(int n, int inC, int inH, int inW, int outC, int k, int stride, int pad, int outPad, int dil)
    {
        var g = Conv2dGeometry.ForTranspose(n, inC, inH, inW, outC, k, k, stride, stride, pad, pad, outPad, outPad, dil, dil);
        var rng = new Random(42);
        float[] x = Random(rng, (long)n * inC * inH * inW), w = Random(rng, (long)inC * outC * k * k);
        var expected = ReferenceConvTranspose(x, w, n, inC, inH, inW, outC, k, stride, pad, outPad, dil, out int outH, out int outW);
        Assert.That((g.InH, g.InW), Is.EqualTo((outH, outW)), "ForTranspose output size");
        using var backend = new CpuBackend { Threads = 2 };
        using var bx = Upload(backend, x);
        using var bw = Upload(backend, w);
        using var by = backend.Allocate(g.InputLength);
        backend.Conv2dBackwardData(bx, bw, g, by);
        AssertClose(Download(backend, by), expected, $"conv_transpose2d k{k} s{stride} p{pad} op{outPad} d{dil}");
    }

    [NonParallelizable]
    [TestCase(SgemmKernel.Portable)]
    [TestCase(SgemmKernel.Avx2)]
    public void NarrowerKernelsMatchDirectLoops(SgemmKernel kernel)
    {
        // The AVX2 6x16 micro-kernel and 4x3 dot tiles (what AVX2-only machines run) and the
        // Vector<T> ones (anything else), on AVX-512 hardware too.
        if (kernel == SgemmKernel.Avx2 && !(System.Runtime.Intrinsics.X86.Avx2.IsSupported && System.Runtime.Intrinsics.X86.Fma.IsSupported))
            Assert.Ignore("no AVX2 + FMA on this CPU");
        var saved = Sgemm.DefaultKernel;
        Sgemm.DefaultKernel = kernel;
        try
        {
            foreach (var g in new[]
            {
                new Conv2dGeometry(2, 5, 9, 7, 6, 3, 3, 1, 1, 2, 2, 2, 2),   // direct stride-1 path, dilated
                new Conv2dGeometry(3, 33, 11, 13, 17, 3, 3, 2, 2, 1, 1),     // packed path, sub-pixel dx
                new Conv2dGeometry(1, 7, 9, 9, 5, 3, 3, 2, 2, 1, 1, 2, 2),   // dilated and strided: col2im dx
                new Conv2dGeometry(1, 4, 6, 40, 6, 3, 3, 2, 2, 1, 1),        // rows wide enough for the vector stride-2 gather
            })
            {
                var rng = new Random(77);
                float[] x = Random(rng, g.InputLength), w = Random(rng, g.WeightLength), b = Random(rng, g.OutC);
                float[] dy = Random(rng, g.OutputLength);
                using var backend = new CpuBackend { Threads = 2 };
                AssertClose(RunForward(backend, x, w, b, g), ReferenceForward(x, w, b, g), $"{kernel} conv2d {g}");
                using var bdy = Upload(backend, dy);
                using var bw = Upload(backend, w);
                using var bx = Upload(backend, x);
                using var bdx = backend.Allocate(g.InputLength);
                backend.Conv2dBackwardData(bdy, bw, g, bdx);
                AssertClose(Download(backend, bdx), ReferenceBackwardData(dy, w, g), $"{kernel} conv2d backward data {g}");
                using var bdw = backend.Allocate(g.WeightLength);
                backend.Conv2dBackwardWeight(bx, bdy, g, bdw, null);
                AssertClose(Download(backend, bdw), ReferenceBackwardWeight(x, dy, g).dw, $"{kernel} conv2d backward weight {g}");
            }
        }
        finally
        {
            Sgemm.DefaultKernel = saved;
        }
    }

    [Test]
    public void SingleThreadGivesTheSameResult()
    {
        var g = new Conv2dGeometry(2, 24, 20, 26, 20, 3, 3, 1, 1, 1, 1);
        var rng = new Random(5);
        float[] x = Random(rng, g.InputLength), w = Random(rng, g.WeightLength);
        using var one = new CpuBackend { Threads = 1 };
        using var two = new CpuBackend { Threads = 2 };
        AssertClose(RunForward(one, x, w, null, g), ReferenceForward(x, w, null, g), "single-threaded conv2d");
        Assert.That(RunForward(two, x, w, null, g), Is.EqualTo(RunForward(one, x, w, null, g)),
            "conv2d depends on the thread count: work items must not share accumulations");
    }

    [Test]
    public void ShortBuffersAreRejectedWithTheOpAndSizes()
    {
        var g = new Conv2dGeometry(2, 3, 8, 8, 4, 3, 3, 1, 1, 1, 1);
        using var backend = new CpuBackend();
        using var x = backend.Allocate(g.InputLength);
        using var w = backend.Allocate(g.WeightLength);
        using var y = backend.Allocate(g.OutputLength);
        using var shortBuffer = backend.Allocate(10);
        using var shortBias = backend.Allocate(2);

        var ex = Assert.Throws<ArgumentException>(() => backend.Conv2d(x, shortBuffer, null, g, y));
        Assert.That(ex!.Message, Does.Contain("conv2d").And.Contain("weight").And.Contain("10").And.Contain(g.WeightLength.ToString()));
        ex = Assert.Throws<ArgumentException>(() => backend.Conv2d(x, w, shortBias, g, y));
        Assert.That(ex!.Message, Does.Contain("bias").And.Contain("holds 2").And.Contain("needs 4"));
        ex = Assert.Throws<ArgumentException>(() => backend.Conv2dBackwardData(y, w, g, shortBuffer));
        Assert.That(ex!.Message, Does.Contain("backward data").And.Contain("dx").And.Contain(g.InputLength.ToString()));
        ex = Assert.Throws<ArgumentException>(() => backend.Conv2dBackwardWeight(x, shortBuffer, g, w, null));
        Assert.That(ex!.Message, Does.Contain("backward weight").And.Contain("dy").And.Contain(g.OutputLength.ToString()));
        ex = Assert.Throws<ArgumentException>(() => backend.Conv2d(x, w, null, g with { KH = 20 }, y));
        Assert.That(ex!.Message, Does.Contain("conv2d").And.Contain("larger than the padded input"));
    }

    // ---- helpers ---------------------------------------------------------------------------------

    private static float[] RunForward(CpuBackend backend, float[] x, float[] w, float[]? bias, Conv2dGeometry g)
    {
        using var bx = Upload(backend, x);
        using var bw = Upload(backend, w);
        using var bb = bias == null ? null : Upload(backend, bias);
        using var by = backend.Allocate(g.OutputLength);
        backend.Conv2d(bx, bw, bb, g, by);
        return Download(backend, by);
    }

    private static float[] Random(Random rng, long n)
    {
        var a = new float[n];
        for (long i = 0; i < n; i++) a[i] = (float)(rng.NextDouble() * 2 - 1);
        return a;
    }

    private static DeviceBuffer Upload(CpuBackend backend, float[] data)
    {
        var b = backend.Allocate(data.Length);
        backend.Upload(data, b);
        return b;
    }

    private static float[] Download(CpuBackend backend, DeviceBuffer b)
    {
        var a = new float[b.Length];
        backend.Download(b, a);
        return a;
    }

    /// <summary>max |actual - expected| relative to max |expected|.</summary>
    internal static void AssertClose(float[] actual, double[] expected, string what)
    {
        Assert.That(actual.Length, Is.EqualTo(expected.Length), what + ": length");
        double scale = 1e-30, err = 0;
        int worst = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            scale = Math.Max(scale, Math.Abs(expected[i]));
            double e = Math.Abs(actual[i] - expected[i]);
            if (!(e <= err)) { err = e; worst = i; }
        }
        Assert.That(err / scale, Is.LessThanOrEqualTo(Tolerance),
            $"{what}: worst at {worst}: {actual[worst]} vs {expected[worst]} (scale {scale})");
    }

    private static double[] ReferenceForward(float[] x, float[] w, float[]? bias, Conv2dGeometry g)
    {
        var y = new double[g.OutputLength];
        int oh = g.OutH, ow = g.OutW;
        for (int n = 0; n < g.N; n++)
        for (int o = 0; o < g.OutC; o++)
        for (int i = 0; i < oh; i++)
        for (int j = 0; j < ow; j++)
        {
            double s = bias == null ? 0 : bias[o];
            for (int c = 0; c < g.InC; c++)
            for (int kh = 0; kh < g.KH; kh++)
            for (int kw = 0; kw < g.KW; kw++)
            {
                int ih = i * g.StrideH - g.PadH + kh * g.DilH, iw = j * g.StrideW - g.PadW + kw * g.DilW;
                if (ih < 0 || ih >= g.InH || iw < 0 || iw >= g.InW) continue;
                s += (double)x[((n * g.InC + c) * g.InH + ih) * g.InW + iw] * w[((o * g.InC + c) * g.KH + kh) * g.KW + kw];
            }
            y[((n * g.OutC + o) * oh + i) * ow + j] = s;
        }
        return y;
    }

    private static double[] ReferenceBackwardData(float[] dy, float[] w, Conv2dGeometry g)
    {
        var dx = new double[g.InputLength];
        int oh = g.OutH, ow = g.OutW;
        for (int n = 0; n < g.N; n++)
        for (int o = 0; o < g.OutC; o++)
        for (int i = 0; i < oh; i++)
        for (int j = 0; j < ow; j++)
        {
            double d = dy[((n * g.OutC + o) * oh + i) * ow + j];
            for (int c = 0; c < g.InC; c++)
            for (int kh = 0; kh < g.KH; kh++)
            for (int kw = 0; kw < g.KW; kw++)
            {
                int ih = i * g.StrideH - g.PadH + kh * g.DilH, iw = j * g.StrideW - g.PadW + kw * g.DilW;
                if (ih < 0 || ih >= g.InH || iw < 0 || iw >= g.InW) continue;
                dx[((n * g.InC + c) * g.InH + ih) * g.InW + iw] += d * w[((o * g.InC + c) * g.KH + kh) * g.KW + kw];
            }
        }
        return dx;
    }

    private static (double[] dw, double[] db) ReferenceBackwardWeight(float[] x, float[] dy, Conv2dGeometry g)
    {
        var dw = new double[g.WeightLength];
        var db = new double[g.OutC];
        int oh = g.OutH, ow = g.OutW;
        for (int n = 0; n < g.N; n++)
        for (int o = 0; o < g.OutC; o++)
        for (int i = 0; i < oh; i++)
        for (int j = 0; j < ow; j++)
        {
            double d = dy[((n * g.OutC + o) * oh + i) * ow + j];
            db[o] += d;
            for (int c = 0; c < g.InC; c++)
            for (int kh = 0; kh < g.KH; kh++)
            for (int kw = 0; kw < g.KW; kw++)
            {
                int ih = i * g.StrideH - g.PadH + kh * g.DilH, iw = j * g.StrideW - g.PadW + kw * g.DilW;
                if (ih < 0 || ih >= g.InH || iw < 0 || iw >= g.InW) continue;
                dw[((o * g.InC + c) * g.KH + kh) * g.KW + kw] += d * x[((n * g.InC + c) * g.InH + ih) * g.InW + iw];
            }
        }
        return (dw, db);
    }

    /// <summary>conv_transpose2d by its definition: each input pixel scatters w[ic, oc] into the output.</summary>
    private static double[] ReferenceConvTranspose(float[] x, float[] w, int n, int inC, int inH, int inW, int outC, int k,
        int stride, int pad, int outPad, int dil, out int outH, out int outW)
    {
        outH = (inH - 1) * stride - 2 * pad + dil * (k - 1) + outPad + 1;
        outW = (inW - 1) * stride - 2 * pad + dil * (k - 1) + outPad + 1;
        var y = new double[(long)n * outC * outH * outW];
        for (int b = 0; b < n; b++)
        for (int ic = 0; ic < inC; ic++)
        for (int i = 0; i < inH; i++)
        for (int j = 0; j < inW; j++)
        {
            double v = x[((b * inC + ic) * inH + i) * inW + j];
            for (int oc = 0; oc < outC; oc++)
            for (int kh = 0; kh < k; kh++)
            for (int kw = 0; kw < k; kw++)
            {
                int r = i * stride - pad + kh * dil, c = j * stride - pad + kw * dil;
                if (r < 0 || r >= outH || c < 0 || c >= outW) continue;
                y[((b * outC + oc) * outH + r) * outW + c] += v * w[((ic * outC + oc) * k + kh) * k + kw];
            }
        }
        return y;
    }
}

internal static class FillExtensions
{
    /// <summary>Fills through Upload so the test does not depend on the elementwise kernels.</summary>
    public static void FillViaUpload(this CpuBackend backend, DeviceBuffer b, long length, float value)
    {
        var a = new float[length];
        Array.Fill(a, value);
        backend.Upload(a, b);
    }
}
