using NUnit.Framework;

namespace ILGpuSat.Kernels.Tests.Cpu;

/// <summary>Batch norm in training and eval mode against the textbook formulas in double.</summary>
public class BatchNormOpsTests : CpuOpsTestBase
{
    private const float Eps = 1e-5f, Momentum = 0.1f;

    /// <summary>Per-channel mean and biased variance in double (two-pass).</summary>
    private static (double[] Mean, double[] Var) Stats(float[] x, ChannelGeometry g)
    {
        var mean = new double[g.C];
        var var = new double[g.C];
        for (int i = 0; i < x.Length; i++) mean[i / g.HW % g.C] += x[i];
        for (int c = 0; c < g.C; c++) mean[c] /= g.PerChannel;
        for (int i = 0; i < x.Length; i++)
        {
            double d = x[i] - mean[i / g.HW % g.C];
            var[i / g.HW % g.C] += d * d;
        }
        for (int c = 0; c < g.C; c++) var[c] /= g.PerChannel;
        return (mean, var);
    }

    private static IEnumerable<ChannelGeometry> TrainGeometries()
    {
        foreach (var g in Geometries()) yield return g;
        yield return new ChannelGeometry(4, 64, 96 * 96); // the size the paper's network sees
    }

    [TestCaseSource(nameof(TrainGeometries))]
    public void TrainForwardAndBackwardMatchReference(ChannelGeometry g)
    {
        int len = (int)g.Length, c = g.C;
        // An offset mean (|mean| >> std) catches a cancelling sum/sum-of-squares variance.
        var x = Rand(len, 11, 3f, 5f);
        var dy = Rand(len, 12);
        var gamma = Rand(c, 13, 0.5f, 1.5f);
        var beta = Rand(c, 14);
        var rm0 = Rand(c, 15);
        var rv0 = Rand(c, 16, 0.5f, 2f);
        DeviceBuffer bx = Buf(x), bdy = Buf(dy), bg = Buf(gamma), bb = Buf(beta), rm = Buf(rm0), rv = Buf(rv0);
        DeviceBuffer y = Empty(len), mean = Empty(c), invStd = Empty(c), dx = Empty(len), dg = Empty(c), db = Empty(c);

        B.BatchNormTrain(bx, bg, bb, g, Eps, y, mean, invStd, rm, rv, Momentum);

        var (mu, var) = Stats(x, g);
        var inv = var.Select(v => 1 / Math.Sqrt(v + Eps)).ToArray();
        int Ch(int i) => i / g.HW % c;
        double XHat(int i) => (x[i] - mu[Ch(i)]) * inv[Ch(i)];
        AssertClose(Get(y), x.Select((_, i) => XHat(i) * gamma[Ch(i)] + beta[Ch(i)]).ToArray(), "bn train y");
        AssertClose(Get(mean), mu, "bn saveMean");
        AssertClose(Get(invStd), inv, "bn saveInvStd");
        double m = g.PerChannel;
        AssertClose(Get(rm), rm0.Select((r, k) => (1 - Momentum) * r + Momentum * mu[k]).ToArray(), "bn runningMean");
        AssertClose(Get(rv), rv0.Select((r, k) => (1 - Momentum) * r + Momentum * var[k] * m / (m - 1)).ToArray(), "bn runningVar (unbiased)");

        B.BatchNormTrainBackward(bx, bdy, bg, mean, invStd, g, dx, dg, db);
        var sumDy = new double[c];
        var sumDyXhat = new double[c];
        for (int i = 0; i < len; i++)
        {
            sumDy[Ch(i)] += dy[i];
            sumDyXhat[Ch(i)] += dy[i] * XHat(i);
        }
        AssertClose(Get(db), sumDy, "bn dbeta");
        AssertClose(Get(dg), sumDyXhat, "bn dgamma");
        AssertClose(Get(dx), x.Select((_, i) =>
            gamma[Ch(i)] * inv[Ch(i)] * (dy[i] - sumDy[Ch(i)] / m - XHat(i) * sumDyXhat[Ch(i)] / m)).ToArray(), "bn dx");
    }

    [Test]
    public void TrainStatisticsSurviveLargeOffsetsAndOutliers()
    {
        // Channel 0: mean 1e4, spread 1e-2 (the variance is 1e-12 of the mean square); channel 1: an
        // outlier of 3000 at its first element. 4099 pixels cross a 4096-element sub-block.
        var g = new ChannelGeometry(2, 2, 4099);
        int len = (int)g.Length;
        var x = Rand(len, 24, -0.01f, 0.01f);
        for (int i = 0; i < len; i++) if (i / g.HW % 2 == 0) x[i] += 1e4f;
        x[g.HW] = 3000f;
        DeviceBuffer y = Empty(len), mean = Empty(2), invStd = Empty(2), rv = Buf(new float[] { 1, 1 });
        B.BatchNormTrain(Buf(x), Buf(new float[] { 1, 1 }), Buf(new float[2]), g, Eps, y, mean, invStd, null, rv, 1f);
        var (mu, var) = Stats(x, g);
        AssertClose(Get(mean), mu, "bn mean with offset/outlier", 1e-6);
        AssertClose(Get(invStd), var.Select(v => 1 / Math.Sqrt(v + Eps)).ToArray(), "bn invStd with offset/outlier");
        AssertClose(Get(rv), var.Select(v => v * g.PerChannel / (g.PerChannel - 1)).ToArray(), "bn running var with offset/outlier");
    }

    [Test]
    public void TrainWithoutRunningStatsOnlyNormalises()
    {
        var g = new ChannelGeometry(2, 3, 10);
        var x = Rand((int)g.Length, 17);
        DeviceBuffer y = Empty(g.Length), mean = Empty(3), inv = Empty(3);
        B.BatchNormTrain(Buf(x), Buf(new float[] { 1, 1, 1 }), Buf(new float[3]), g, Eps, y, mean, inv, null, null, Momentum);
        var yv = Get(y);
        for (int c = 0; c < 3; c++)
        {
            var vals = Enumerable.Range(0, (int)g.Length).Where(i => i / g.HW % 3 == c).Select(i => (double)yv[i]).ToArray();
            Assert.That(vals.Average(), Is.EqualTo(0).Within(1e-6), $"channel {c} mean");
            Assert.That(vals.Select(v => v * v).Average(), Is.EqualTo(1).Within(1e-3), $"channel {c} variance");
        }
    }

    [Test]
    public void TrainWithOneValuePerChannelIsRejected()
    {
        var g = new ChannelGeometry(1, 2, 1);
        var ex = Assert.Throws<ArgumentException>(() => B.BatchNormTrain(Buf(new float[2]), Buf(new float[2]), Buf(new float[2]), g, Eps,
            Empty(2), Empty(2), Empty(2), null, null, Momentum));
        Assert.That(ex!.Message, Does.Contain("batch_norm_train").And.Contain("more than 1 value"));
    }

    [TestCaseSource(typeof(CpuOpsTestBase), nameof(Geometries))]
    public void EvalForwardAndBackwardMatchReference(ChannelGeometry g)
    {
        int len = (int)g.Length, c = g.C;
        var x = Rand(len, 18, -2f, 3f);
        var dy = Rand(len, 19);
        var gamma = Rand(c, 20, 0.5f, 1.5f);
        var beta = Rand(c, 21);
        var rm = Rand(c, 22);
        var rv = Rand(c, 23, 0.5f, 2f);
        DeviceBuffer bx = Buf(x), bdy = Buf(dy), bg = Buf(gamma), bb = Buf(beta), brm = Buf(rm), brv = Buf(rv);
        DeviceBuffer y = Empty(len), dx = Empty(len), dg = Empty(c), db = Empty(c);
        int Ch(int i) => i / g.HW % c;
        double Inv(int k) => 1 / Math.Sqrt(rv[k] + (double)Eps);

        B.BatchNormEval(bx, bg, bb, brm, brv, g, Eps, y);
        AssertClose(Get(y), x.Select((v, i) => (v - rm[Ch(i)]) * Inv(Ch(i)) * gamma[Ch(i)] + beta[Ch(i)]).ToArray(), "bn eval y");

        B.BatchNormEvalBackward(bx, bdy, bg, brm, brv, g, Eps, dx, dg, db);
        AssertClose(Get(dx), dy.Select((d, i) => d * gamma[Ch(i)] * Inv(Ch(i))).ToArray(), "bn eval dx");
        var dgRef = new double[c];
        var dbRef = new double[c];
        for (int i = 0; i < len; i++)
        {
            dbRef[Ch(i)] += dy[i];
            dgRef[Ch(i)] += dy[i] * (x[i] - rm[Ch(i)]) * Inv(Ch(i));
        }
        AssertClose(Get(dg), dgRef, "bn eval dgamma");
        AssertClose(Get(db), dbRef, "bn eval dbeta");
    }
}
