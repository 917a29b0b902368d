using NUnit.Framework;

namespace ILGpuSat.Kernels.Tests.Cpu;

/// <summary>Fill/copy/arithmetic, activations, channel bias and whole-buffer reductions.</summary>
public class ElementwiseOpsTests : CpuOpsTestBase
{
    // 1 and 15 never reach a vector; 17 and 1000 have remainders; 70001 and 200003 are split across threads.
    private static readonly int[] Sizes = { 1, 15, 17, 1000, 70001, 200003 };

    private static double[] Map(float[] a, Func<double, double> f) => a.Select(v => f(v)).ToArray();
    private static double[] Map(float[] a, float[] b, Func<double, double, double> f) => a.Select((v, i) => f(v, b[i])).ToArray();

    [TestCaseSource(nameof(Sizes))]
    public void FillCopyAndArithmeticMatchScalarReference(int n)
    {
        var a = Rand(n, 1);
        var b = Rand(n, 2);
        DeviceBuffer ba = Buf(a), bb = Buf(b), y = Empty(n);

        B.Fill(y, 2.5f);
        AssertClose(Get(y), Enumerable.Repeat(2.5, n).ToArray(), "fill");
        using (var s = B.Allocate(1))
        {
            B.Upload(new[] { 3f }, s);
            B.FillFromScalar(s, -0.25f, y);
            AssertClose(Get(y), Enumerable.Repeat(-0.75, n).ToArray(), "fill_from_scalar");
        }
        B.Copy(ba, y);
        AssertClose(Get(y), Map(a, v => v), "copy");
        B.Add(ba, bb, y);
        AssertClose(Get(y), Map(a, b, (u, v) => u + v), "add");
        B.Multiply(ba, bb, y);
        AssertClose(Get(y), Map(a, b, (u, v) => u * v), "multiply");
        B.Scale(ba, -1.7f, y);
        AssertClose(Get(y), Map(a, v => -1.7f * v), "scale");
        using (var abs = B.Allocate(n))
        {
            B.Upload(a.Select(MathF.Abs).ToArray(), abs);
            B.Sqrt(abs, y);
            AssertClose(Get(y), Map(a, v => Math.Sqrt(Math.Abs(v))), "sqrt");
        }
        B.Copy(bb, y);
        B.Axpy(0.3f, ba, y);
        AssertClose(Get(y), Map(a, b, (u, v) => v + 0.3f * u), "axpy");
        // In place: y = y + y.
        B.Add(y, y, y);
        AssertClose(Get(y), Map(a, b, (u, v) => 2 * (v + 0.3f * u)), "add in place");
    }

    [TestCaseSource(nameof(Sizes))]
    public void ActivationsAndGradientsMatchScalarReference(int n)
    {
        var x = Rand(n, 3);
        if (n > 2) x[n / 2] = 0f; // the gradient at exactly 0 takes the negative branch, as in PyTorch
        var dy = Rand(n, 4);
        DeviceBuffer bx = Buf(x), bdy = Buf(dy), y = Empty(n);

        B.Relu(bx, y);
        AssertClose(Get(y), Map(x, v => Math.Max(v, 0)), "relu");
        B.ReluBackward(bx, bdy, y);
        AssertClose(Get(y), Map(x, dy, (v, d) => v > 0 ? d : 0), "relu_bwd");
        B.LeakyRelu(bx, 0.2f, y);
        AssertClose(Get(y), Map(x, v => v > 0 ? v : 0.2f * v), "leaky_relu");
        B.LeakyReluBackward(bx, bdy, 0.2f, y);
        AssertClose(Get(y), Map(x, dy, (v, d) => v > 0 ? d : 0.2f * d), "leaky_relu_bwd");
    }

    [Test]
    public void ReluPropagatesNaN()
    {
        var x = new float[33];
        x[20] = float.NaN;
        x[32] = float.NaN;
        var y = Empty(33);
        B.Relu(Buf(x), y);
        var r = Get(y);
        Assert.That(float.IsNaN(r[20]) && float.IsNaN(r[32]) && r[0] == 0, Is.True);
    }

    [TestCaseSource(typeof(CpuOpsTestBase), nameof(Geometries))]
    public void PReluPerChannelAndSharedMatchReference(ChannelGeometry g)
    {
        int len = (int)g.Length;
        var x = Rand(len, 5);
        var dy = Rand(len, 6);
        x[0] = 0f;
        foreach (bool shared in new[] { false, true })
        {
            var w = Rand(shared ? 1 : g.C, 7, 0.05f, 0.5f);
            DeviceBuffer bx = Buf(x), bw = Buf(w), bdy = Buf(dy), y = Empty(len), dx = Empty(len), dw = Empty(w.Length);
            double Wt(int i) => w[shared ? 0 : i / g.HW % g.C];

            B.PRelu(bx, bw, g, y);
            AssertClose(Get(y), x.Select((v, i) => v > 0 ? v : Wt(i) * v).ToArray(), $"prelu shared={shared}");

            B.PReluBackward(bx, bw, bdy, g, dx, dw);
            AssertClose(Get(dx), x.Select((v, i) => v > 0 ? dy[i] : Wt(i) * dy[i]).ToArray(), $"prelu_bwd dx shared={shared}");
            var dwRef = new double[w.Length];
            for (int i = 0; i < len; i++)
                if (x[i] <= 0) dwRef[shared ? 0 : i / g.HW % g.C] += (double)x[i] * dy[i];
            AssertClose(Get(dw), dwRef, $"prelu_bwd dweight shared={shared}");
        }
    }

    [TestCaseSource(typeof(CpuOpsTestBase), nameof(Geometries))]
    public void ChannelBiasAndChannelSumMatchReference(ChannelGeometry g)
    {
        int len = (int)g.Length;
        var x = Rand(len, 8);
        var bias = Rand(g.C, 9);
        DeviceBuffer bx = Buf(x), bb = Buf(bias), y = Empty(len), s = Empty(g.C);

        B.AddChannelBias(bx, bb, g, y);
        AssertClose(Get(y), x.Select((v, i) => v + (double)bias[i / g.HW % g.C]).ToArray(), "add_channel_bias");
        B.AddChannelBias(bx, bb, g, bx); // in place
        AssertClose(Get(bx), x.Select((v, i) => v + (double)bias[i / g.HW % g.C]).ToArray(), "add_channel_bias in place");

        B.ChannelSum(y, g, s);
        var yv = Get(y);
        var sRef = new double[g.C];
        for (int i = 0; i < len; i++) sRef[i / g.HW % g.C] += yv[i];
        AssertClose(Get(s), sRef, "channel_sum");
    }

    [TestCaseSource(nameof(Sizes))]
    public void SumAndSumOfSquaresMatchDoubleReference(int n)
    {
        // An offset mean makes a float-accumulated sum visibly wrong for the large sizes.
        var x = Rand(n, 10, 0.5f, 1.5f);
        DeviceBuffer bx = Buf(x), r = Empty(1);
        B.Sum(bx, r);
        AssertClose(Get(r)[0], x.Sum(v => (double)v), "sum", 1e-6);
        B.SumOfSquares(bx, r);
        AssertClose(Get(r)[0], x.Sum(v => (double)v * v), "sum_of_squares", 1e-6);
    }

    [Test]
    public void SumOfManyValuesStaysAccurate()
    {
        // 4M values of 0.1: a naive float accumulator drifts by ~1%, the blocked double sum by ~1e-7.
        const int n = 1 << 22;
        var x = Enumerable.Repeat(0.1f, n).ToArray();
        var r = Empty(1);
        B.Sum(Buf(x), r);
        AssertClose(Get(r)[0], n * (double)0.1f, "sum of 4M", 1e-6);
    }
}
