using ILGpuSat.Kernels.Cpu;
using NUnit.Framework;

namespace ILGpuSat.Kernels.Tests.Cpu;

/// <summary>
/// Reductions add fixed partials in a fixed order, so every op gives the same bits on 1 thread
/// as on several: runs on machines with different core counts are reproducible.
/// </summary>
public class ThreadCountDeterminismTests
{
    /// <summary>Runs <paramref name="op"/> on a fresh backend with the given thread count and returns every output.</summary>
    private static float[][] Run(int threads, float[][] inputs, int[] outputLengths, Action<CpuBackend, DeviceBuffer[], DeviceBuffer[]> op)
    {
        using var b = new CpuBackend { Threads = threads };
        var ins = inputs.Select(a => { var d = b.Allocate(a.Length); b.Upload(a, d); return d; }).ToArray();
        var outs = outputLengths.Select(n => b.Allocate(n)).ToArray();
        op(b, ins, outs);
        var result = outs.Select(o => { var a = new float[o.Length]; b.Download(o, a); return a; }).ToArray();
        foreach (var d in ins.Concat(outs)) d.Dispose();
        return result;
    }

    private static void AssertSameOnOneAndManyThreads(string what, float[][] inputs, int[] outputLengths, Action<CpuBackend, DeviceBuffer[], DeviceBuffer[]> op)
    {
        var one = Run(1, inputs, outputLengths, op);
        var many = Run(3, inputs, outputLengths, op);
        for (int k = 0; k < one.Length; k++)
            Assert.That(many[k], Is.EqualTo(one[k]), $"{what}: output {k} differs between 1 and 3 threads");
    }

    private static float[] Rand(int n, int seed, float lo = -1f, float hi = 1f)
    {
        var r = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => lo + (hi - lo) * (float)r.NextDouble()).ToArray();
    }

    [Test]
    public void ReductionsAndLossesAreIndependentOfThreadCount()
    {
        const int n = 300_001;
        var x = Rand(n, 1, 0f, 2f);
        var t = Rand(n, 2);
        AssertSameOnOneAndManyThreads("sum", new[] { x }, new[] { 1 }, (b, i, o) => b.Sum(i[0], o[0]));
        AssertSameOnOneAndManyThreads("sum_of_squares", new[] { x }, new[] { 1 }, (b, i, o) => b.SumOfSquares(i[0], o[0]));
        AssertSameOnOneAndManyThreads("mse_loss", new[] { x, t }, new[] { 1 }, (b, i, o) => b.MseLoss(i[0], i[1], o[0]));

        var g = new ChannelGeometry(3, 40, 1000);
        int len = (int)g.Length;
        var logits = Rand(len, 3, -4f, 4f);
        var z = Rand(len, 4, 0f, 1f);
        var w = Rand((int)g.PerChannel, 5, 0.5f, 2f);
        AssertSameOnOneAndManyThreads("softmax_cross_entropy", new[] { logits, z, w }, new[] { 1 },
            (b, i, o) => b.SoftmaxCrossEntropy(i[0], i[1], i[2], g, o[0]));
    }

    [Test]
    public void PerChannelStatisticsAreIndependentOfThreadCount()
    {
        var g = new ChannelGeometry(4, 16, 70 * 70);
        int len = (int)g.Length, c = g.C;
        var x = Rand(len, 6, -3f, 5f);
        var dy = Rand(len, 7);
        var gamma = Rand(c, 8, 0.5f, 1.5f);
        var beta = Rand(c, 9);
        AssertSameOnOneAndManyThreads("channel_sum", new[] { x }, new[] { c }, (b, i, o) => b.ChannelSum(i[0], g, o[0]));
        AssertSameOnOneAndManyThreads("prelu_bwd", new[] { x, Rand(c, 10, 0f, 0.3f), dy }, new[] { len, c },
            (b, i, o) => b.PReluBackward(i[0], i[1], i[2], g, o[0], o[1]));
        AssertSameOnOneAndManyThreads("batch_norm_train + bwd", new[] { x, gamma, beta, dy, new float[c], Enumerable.Repeat(1f, c).ToArray() },
            new[] { len, c, c, len, c, c },
            (b, i, o) => {
                b.BatchNormTrain(i[0], i[1], i[2], g, 1e-5f, o[0], o[1], o[2], i[4], i[5], 0.1f);
                b.BatchNormTrainBackward(i[0], i[3], i[1], o[1], o[2], g, o[3], o[4], o[5]);
            });
    }
}
