using NUnit.Framework;

namespace ILGpuSat.Kernels.Tests.Cpu;

/// <summary>Channel softmax/log-softmax, MSE and the weighted soft-target cross-entropy.</summary>
public class SoftmaxLossOpsTests : CpuOpsTestBase
{
    private static IEnumerable<ChannelGeometry> SoftmaxGeometries()
    {
        foreach (var g in Geometries()) yield return g;
        yield return new ChannelGeometry(4, 313, 24 * 24); // the colorization head
        yield return new ChannelGeometry(2, 40, 1000);     // threaded with a partial pixel block
    }

    /// <summary>Per-pixel log-softmax in double.</summary>
    private static double[] LogSoftmaxRef(float[] x, ChannelGeometry g)
    {
        var r = new double[x.Length];
        for (int n = 0; n < g.N; n++)
            for (int p = 0; p < g.HW; p++)
            {
                int b = n * g.C * g.HW + p;
                double m = double.NegativeInfinity;
                for (int c = 0; c < g.C; c++) m = Math.Max(m, x[b + c * g.HW]);
                double s = 0;
                for (int c = 0; c < g.C; c++) s += Math.Exp(x[b + c * g.HW] - m);
                for (int c = 0; c < g.C; c++) r[b + c * g.HW] = x[b + c * g.HW] - m - Math.Log(s);
            }
        return r;
    }

    /// <summary>Sum over channels at every pixel of f(index).</summary>
    private static double[] ChannelSums(ChannelGeometry g, Func<int, double> f)
    {
        var s = new double[g.N * g.HW];
        for (int i = 0; i < g.Length; i++) s[i / (g.C * g.HW) * g.HW + i % g.HW] += f(i);
        return s;
    }

    private static int Pixel(int i, ChannelGeometry g) => i / (g.C * g.HW) * g.HW + i % g.HW;

    [TestCaseSource(nameof(SoftmaxGeometries))]
    public void SoftmaxAndLogSoftmaxWithGradientsMatchReference(ChannelGeometry g)
    {
        int len = (int)g.Length;
        var x = Rand(len, 40, -6f, 6f);
        var dy = Rand(len, 41);
        DeviceBuffer bx = Buf(x), bdy = Buf(dy), y = Empty(len), dx = Empty(len);
        var logp = LogSoftmaxRef(x, g);
        var p = logp.Select(Math.Exp).ToArray();

        B.Softmax(bx, g, y);
        AssertClose(Get(y), p, "softmax");
        var yv = Get(y);
        B.SoftmaxBackward(y, bdy, g, dx);
        var dot = ChannelSums(g, i => (double)dy[i] * yv[i]);
        AssertClose(Get(dx), yv.Select((v, i) => v * (dy[i] - dot[Pixel(i, g)])).ToArray(), "softmax_bwd");

        B.LogSoftmax(bx, g, y);
        AssertClose(Get(y), logp, "log_softmax");
        yv = Get(y);
        B.LogSoftmaxBackward(y, bdy, g, dx);
        var sumDy = ChannelSums(g, i => dy[i]);
        AssertClose(Get(dx), yv.Select((v, i) => dy[i] - Math.Exp(v) * sumDy[Pixel(i, g)]).ToArray(), "log_softmax_bwd");
    }

    [Test]
    public void SoftmaxIsStableForLargeLogits()
    {
        var g = new ChannelGeometry(1, 3, 17);
        var x = Rand((int)g.Length, 42, 1000f, 1010f);
        var y = Empty(g.Length);
        B.Softmax(Buf(x), g, y);
        AssertClose(Get(y), LogSoftmaxRef(x, g).Select(Math.Exp).ToArray(), "softmax of large logits");
        B.LogSoftmax(Buf(x), g, y);
        AssertClose(Get(y), LogSoftmaxRef(x, g), "log_softmax of large logits");
    }

    [TestCaseSource(nameof(SoftmaxGeometries))]
    public void SoftCrossEntropyWithWeightsMatchesReference(ChannelGeometry g)
    {
        int len = (int)g.Length, pixels = (int)g.PerChannel;
        var x = Rand(len, 43, -5f, 5f);
        // Soft targets: a distribution per pixel, as the colorization ground truth.
        var z = Rand(len, 44, 0f, 1f);
        var zSum = ChannelSums(g, i => z[i]);
        for (int i = 0; i < len; i++) z[i] = (float)(z[i] / zSum[Pixel(i, g)]);
        var w = Rand(pixels, 45, 0.2f, 3f);
        var logp = LogSoftmaxRef(x, g);
        zSum = ChannelSums(g, i => z[i]);
        DeviceBuffer bx = Buf(x), bz = Buf(z), dloss = Buf(new[] { 0.7f }), loss = Empty(1), dx = Empty(len);

        foreach (var weights in new[] { null, w })
        {
            double Wt(int pixel) => weights is null ? 1 : weights[pixel];
            var bw = weights is null ? null : Buf(weights);
            B.SoftmaxCrossEntropy(bx, bz, bw, g, loss);
            double expected = 0;
            for (int i = 0; i < len; i++) expected -= Wt(Pixel(i, g)) * z[i] * logp[i];
            AssertClose(Get(loss)[0], expected / pixels, $"softmax_cross_entropy weighted={weights is not null}");

            B.SoftmaxCrossEntropyBackward(bx, bz, bw, g, dloss, dx);
            AssertClose(Get(dx), x.Select((_, i) =>
                0.7 * Wt(Pixel(i, g)) * (Math.Exp(logp[i]) * zSum[Pixel(i, g)] - z[i]) / pixels).ToArray(),
                $"softmax_cross_entropy_bwd weighted={weights is not null}");
        }
    }

    [TestCase(1)]
    [TestCase(31)]
    [TestCase(70001)]
    public void MseLossAndGradientMatchReference(int n)
    {
        var p = Rand(n, 46);
        var t = Rand(n, 47);
        DeviceBuffer bp = Buf(p), bt = Buf(t), loss = Empty(1), dp = Empty(n);
        B.MseLoss(bp, bt, loss);
        AssertClose(Get(loss)[0], p.Select((v, i) => ((double)v - t[i]) * ((double)v - t[i])).Sum() / n, "mse_loss");
        B.MseLossBackward(bp, bt, Buf(new[] { 1.5f }), dp);
        AssertClose(Get(dp), p.Select((v, i) => 1.5 * 2 * ((double)v - t[i]) / n).ToArray(), "mse_loss_bwd");
    }
}
