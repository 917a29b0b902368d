using NUnit.Framework;

namespace ILGpuSat.Kernels.Tests.Cpu;

/// <summary>Channel copies, bilinear/nearest resizing and 2x2 max-pool, each with its gradient.</summary>
public class LayoutResampleOpsTests : CpuOpsTestBase
{
    [TestCase(1, 3, 0, 5, 2, 1, 63)]
    [TestCase(3, 4, 1, 3, 0, 2, 7)]
    [TestCase(2, 70, 10, 80, 5, 60, 1500)] // threaded
    public void CopyChannelsCopiesOnlyTheRange(int n, int srcC, int srcOff, int dstC, int dstOff, int count, int hw)
    {
        var src = Rand(n * srcC * hw, 30);
        var dst = Rand(n * dstC * hw, 31);
        var bd = Buf(dst);
        B.CopyChannels(Buf(src), srcC, srcOff, bd, dstC, dstOff, count, n, hw);
        var expected = dst.Select(v => (double)v).ToArray();
        for (int i = 0; i < n; i++)
            for (int c = 0; c < count; c++)
                for (int p = 0; p < hw; p++)
                    expected[(i * dstC + dstOff + c) * hw + p] = src[(i * srcC + srcOff + c) * hw + p];
        AssertClose(Get(bd), expected, "copy_channels", 0);
    }

    /// <summary>Source index and weights of PyTorch's linear interpolation, align_corners=false, in double.</summary>
    private static (int I0, int I1, double L1) Linear(int o, int inSize, int outSize)
    {
        if (inSize == outSize) return (o, o, 0);
        double src = Math.Max((o + 0.5) * inSize / outSize - 0.5, 0);
        int i0 = Math.Min((int)Math.Floor(src), inSize - 1);
        return (i0, Math.Min(i0 + 1, inSize - 1), src - i0);
    }

    private static readonly object[] ResizeCases =
    {
        new object[] { 3, 7, 9, 28, 36 },   // 4x up, odd sizes
        new object[] { 1, 5, 5, 3, 4 },     // down
        new object[] { 2, 6, 6, 6, 6 },     // identity
        new object[] { 2, 4, 5, 8, 10 },    // exact 2x
        new object[] { 1, 3, 7, 10, 5 },    // mixed, non-integer ratios
        new object[] { 6, 24, 24, 96, 96 }, // threaded
    };

    [TestCaseSource(nameof(ResizeCases))]
    public void BilinearForwardAndBackwardMatchReference(int planes, int inH, int inW, int outH, int outW)
    {
        var x = Rand(planes * inH * inW, 32);
        var dy = Rand(planes * outH * outW, 33);
        DeviceBuffer y = Empty(planes * outH * outW), dx = Empty(x.Length);
        B.UpsampleBilinear(Buf(x), planes, inH, inW, outH, outW, y);
        B.UpsampleBilinearBackward(Buf(dy), planes, inH, inW, outH, outW, dx);

        var yRef = new double[dy.Length];
        var dxRef = new double[x.Length];
        for (int p = 0; p < planes; p++)
            for (int oh = 0; oh < outH; oh++)
                for (int ow = 0; ow < outW; ow++)
                {
                    var (h0, h1, lh) = Linear(oh, inH, outH);
                    var (w0, w1, lw) = Linear(ow, inW, outW);
                    int o = (p * outH + oh) * outW + ow;
                    int b = p * inH * inW;
                    (int Idx, double Wt)[] taps =
                    {
                        (b + h0 * inW + w0, (1 - lh) * (1 - lw)), (b + h0 * inW + w1, (1 - lh) * lw),
                        (b + h1 * inW + w0, lh * (1 - lw)), (b + h1 * inW + w1, lh * lw),
                    };
                    foreach (var (idx, wt) in taps)
                    {
                        yRef[o] += wt * x[idx];
                        dxRef[idx] += wt * dy[o];
                    }
                }
        AssertClose(Get(y), yRef, "upsample_bilinear");
        AssertClose(Get(dx), dxRef, "upsample_bilinear_bwd");
    }

    [Test]
    public void BilinearClampsNegativeSourceCoordinatesToZero()
    {
        // 2 -> 4: output 0 maps to source -0.25, clamped to 0, so y[0] = x[0] exactly (PyTorch: [1, 1.25, 1.75, 2]).
        var y = Empty(4);
        B.UpsampleBilinear(Buf(new float[] { 1, 2 }), 1, 1, 2, 1, 4, y);
        Assert.That(Get(y), Is.EqualTo(new float[] { 1, 1.25f, 1.75f, 2 }));
    }

    [TestCaseSource(nameof(ResizeCases))]
    public void NearestForwardAndBackwardMatchReference(int planes, int inH, int inW, int outH, int outW)
    {
        var x = Rand(planes * inH * inW, 34);
        var dy = Rand(planes * outH * outW, 35);
        DeviceBuffer y = Empty(planes * outH * outW), dx = Empty(x.Length);
        B.UpsampleNearest(Buf(x), planes, inH, inW, outH, outW, y);
        B.UpsampleNearestBackward(Buf(dy), planes, inH, inW, outH, outW, dx);

        static int Src(int o, int inSize, int outSize) => Math.Min((int)Math.Floor((double)o * inSize / outSize), inSize - 1);
        var yRef = new double[dy.Length];
        var dxRef = new double[x.Length];
        for (int p = 0; p < planes; p++)
            for (int oh = 0; oh < outH; oh++)
                for (int ow = 0; ow < outW; ow++)
                {
                    int o = (p * outH + oh) * outW + ow;
                    int idx = (p * inH + Src(oh, inH, outH)) * inW + Src(ow, inW, outW);
                    yRef[o] = x[idx];
                    dxRef[idx] += dy[o];
                }
        AssertClose(Get(y), yRef, "upsample_nearest");
        AssertClose(Get(dx), dxRef, "upsample_nearest_bwd");
    }

    [TestCase(1, 2, 2)]
    [TestCase(3, 7, 9)]
    [TestCase(5, 8, 33)]
    [TestCase(32, 96, 97)] // threaded, odd width
    public void MaxPoolRoutesGradientToFirstMaximum(int planes, int inH, int inW)
    {
        // Values on a coarse grid so that windows often hold ties: the first maximum (row-major) wins.
        var x = Rand(planes * inH * inW, 36).Select(v => MathF.Round(v * 2) / 2).ToArray();
        int outH = inH / 2, outW = inW / 2;
        var dy = Rand(planes * outH * outW, 37);
        DeviceBuffer y = Empty(dy.Length), dx = Empty(x.Length);
        B.MaxPool2x2(Buf(x), planes, inH, inW, y);
        B.MaxPool2x2Backward(Buf(x), Buf(dy), planes, inH, inW, dx);

        var yRef = new double[dy.Length];
        var dxRef = new double[x.Length];
        for (int p = 0; p < planes; p++)
            for (int oh = 0; oh < outH; oh++)
                for (int ow = 0; ow < outW; ow++)
                {
                    int best = -1;
                    for (int k = 0; k < 4; k++)
                    {
                        int idx = (p * inH + 2 * oh + k / 2) * inW + 2 * ow + k % 2;
                        if (best < 0 || x[idx] > x[best]) best = idx;
                    }
                    int o = (p * outH + oh) * outW + ow;
                    yRef[o] = x[best];
                    dxRef[best] = dy[o];
                }
        AssertClose(Get(y), yRef, "max_pool2x2", 0);
        AssertClose(Get(dx), dxRef, "max_pool2x2_bwd", 0);
    }

    [Test]
    public void MaxPoolFollowsPyTorchNaNRule()
    {
        // PyTorch scans each window with "val > max || isnan(val)": NaN wins the value, and the
        // gradient goes to the last NaN. Width 70 puts windows in both the vector body and the tail.
        const int planes = 2, inH = 6, inW = 70, outH = 3, outW = 35;
        var x = Rand(planes * inH * inW, 38);
        var r = new Random(39);
        for (int k = 0; k < 80; k++) x[r.Next(x.Length)] = float.NaN;
        var dy = Rand(planes * outH * outW, 40);
        DeviceBuffer y = Empty(dy.Length), dx = Empty(x.Length);
        B.MaxPool2x2(Buf(x), planes, inH, inW, y);
        B.MaxPool2x2Backward(Buf(x), Buf(dy), planes, inH, inW, dx);
        var yv = Get(y);
        var dxv = Get(dx);
        var dxRef = new float[x.Length];
        for (int p = 0; p < planes; p++)
            for (int oh = 0; oh < outH; oh++)
                for (int ow = 0; ow < outW; ow++)
                {
                    int best = (p * inH + 2 * oh) * inW + 2 * ow;
                    for (int k = 1; k < 4; k++)
                    {
                        int idx = (p * inH + 2 * oh + k / 2) * inW + 2 * ow + k % 2;
                        if (x[idx] > x[best] || float.IsNaN(x[idx])) best = idx;
                    }
                    int o = (p * outH + oh) * outW + ow;
                    Assert.That(yv[o], Is.EqualTo(x[best]), $"max_pool2x2 window {o}");
                    dxRef[best] = dy[o];
                }
        Assert.That(dxv, Is.EqualTo(dxRef), "max_pool2x2_bwd with NaN");
    }
}
