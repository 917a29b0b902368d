using NUnit.Framework;
using ILGpuSat.Imaging.Color;

namespace ILGpuSat.Imaging.Tests.Color;

public class AnnealedMeanTests
{
    // ab is O(100); float softmax over 313 bins.
    private const double Tolerance = 1e-3;

    [TestCase(24)]
    [TestCase(13)] // not a multiple of the vector width
    public void DecodingMatchesReferences(int n)
    {
        using var g = ColorGolden.Open("annealed_mean.json");
        var logits = ChannelMajor(g.Matrix("logits"), n);
        var probs = ChannelMajor(g.Matrix("probs"), n);
        Check(logits, n, 0.38f, fromProbs: false, g.Matrix("T038"));
        Check(logits, n, 1f, fromProbs: false, g.Matrix("T1"));
        Check(probs, n, 0.38f, fromProbs: true, g.Matrix("T038_from_probs"));
    }

    [Test]
    public void TemperatureOneIsThePlainMean()
    {
        using var g = ColorGolden.Open("annealed_mean.json");
        int n = 24;
        var probs = ChannelMajor(g.Matrix("probs"), n);
        var (a, b) = (new float[n], new float[n]);
        AnnealedMean.FromProbabilities(probs, a, b, 1f);
        var bins = AbBins.Default;
        for (int p = 0; p < n; p++)
        {
            double sum = 0, ea = 0, eb = 0;
            for (int q = 0; q < AbBins.Count; q++) { double v = probs[q * n + p]; sum += v; ea += v * bins.A[q]; eb += v * bins.B[q]; }
            Assert.That(a[p], Is.EqualTo(ea / sum).Within(Tolerance));
            Assert.That(b[p], Is.EqualTo(eb / sum).Within(Tolerance));
        }
    }

    [Test]
    public void LowTemperatureApproachesTheMode()
    {
        int n = 1;
        var probs = new float[AbBins.Count];
        Array.Fill(probs, 0.5f / (AbBins.Count - 1));
        probs[200] = 0.5f;
        var (a, b) = (new float[n], new float[n]);
        AnnealedMean.FromProbabilities(probs, a, b, 0.01f);
        Assert.That(a[0], Is.EqualTo(AbBins.Default.A[200]).Within(1e-3));
        Assert.That(b[0], Is.EqualTo(AbBins.Default.B[200]).Within(1e-3));
    }

    private static void Check(float[] x, int n, float t, bool fromProbs, double[][] expected)
    {
        var (a, b) = (new float[n], new float[n]);
        if (fromProbs) AnnealedMean.FromProbabilities(x, a, b, t);
        else AnnealedMean.FromLogits(x, a, b, t);
        for (int p = 0; p < n; p++)
        {
            Assert.That(a[p], Is.EqualTo(expected[p][0]).Within(Tolerance), $"T={t} pixel {p} a");
            Assert.That(b[p], Is.EqualTo(expected[p][1]).Within(Tolerance), $"T={t} pixel {p} b");
        }
    }

    // Reference rows are [pixel][bin]; the decoder takes [bin, pixel] (one CHW sample).
    private static float[] ChannelMajor(double[][] rows, int n)
    {
        var x = new float[AbBins.Count * n];
        for (int p = 0; p < n; p++)
            for (int q = 0; q < AbBins.Count; q++) x[q * n + p] = (float)rows[p][q];
        return x;
    }
}
