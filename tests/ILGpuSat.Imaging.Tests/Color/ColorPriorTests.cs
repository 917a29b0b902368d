using NUnit.Framework;
using ILGpuSat.Imaging.Color;

namespace ILGpuSat.Imaging.Tests.Color;

public class ColorPriorTests
{
    [Test]
    public void HistogramSmoothingFusionAndWeightsMatchZhangRecipe()
    {
        using var g = ColorGolden.Open("prior.json");
        var hist = new BinHistogram();
        hist.Add(g.Column("samples", 0), g.Column("samples", 1));
        Assert.That(hist.Counts.ToArray().Select(c => (double)c).ToArray(), Is.EqualTo(g.Vector("counts")));

        var empirical = ColorPrior.FromHistogram(hist);
        var smoothed = empirical.Smooth(5.0);
        AssertRelClose(smoothed.Probabilities.ToArray(), g.Vector("smoothed"), "smoothed (scipy gaussian_filter)");

        var fused = smoothed.FuseWith(ColorPrior.ImageNet, g.Scalar("mix"));
        AssertRelClose(fused.Probabilities.ToArray(), g.Vector("fused"), "fused");
        AssertRelClose(fused.RebalancingWeights(0.5), g.Vector("weights_fused"), "weights of the fused prior");
        AssertRelClose(ColorPrior.ImageNet.RebalancingWeights(0.5), g.Vector("weights_imagenet"), "weights of the ImageNet prior");
    }

    [TestCase(0.5)]
    [TestCase(0.1)]
    [TestCase(1.0)]
    public void WeightsHaveUnitExpectationUnderThePrior(double lambda)
    {
        var p = ColorPrior.ImageNet.Smooth();
        var w = p.RebalancingWeights(lambda);
        double e = 0;
        for (int i = 0; i < AbBins.Count; i++) e += p[i] * w[i];
        Assert.That(e, Is.EqualTo(1.0).Within(1e-12));
        // Rare colours weigh more: the weight is decreasing in p.
        int common = Enumerable.Range(0, AbBins.Count).MaxBy(i => p[i]);
        int rare = Enumerable.Range(0, AbBins.Count).MinBy(i => p[i]);
        if (lambda < 1) Assert.That(w[rare], Is.GreaterThan(w[common]));
    }

    [Test]
    public void SmoothingKeepsMassAndSpreadsToNeighbours()
    {
        var delta = new double[AbBins.Count];
        int centre = AbBins.Default.IndexOf(0, 0), right = AbBins.Default.IndexOf(10, 0), diag = AbBins.Default.IndexOf(10, 10);
        delta[centre] = 1;
        var s = ColorPrior.FromProbabilities(delta).Smooth(5.0);
        Assert.That(s.Probabilities.ToArray().Sum(), Is.EqualTo(1.0).Within(1e-12));
        Assert.That(s[right] / s[centre], Is.EqualTo(Math.Exp(-100.0 / 50)).Within(1e-12));
        Assert.That(s[diag] / s[centre], Is.EqualTo(Math.Exp(-200.0 / 50)).Within(1e-12));
    }

    [Test]
    public void BadInputIsRejectedClearly()
    {
        Assert.That(Assert.Throws<ArgumentException>(() => ColorPrior.FromProbabilities(new double[5]))!.Message, Does.Contain("313"));
        Assert.That(Assert.Throws<ArgumentException>(() => ColorPrior.FromProbabilities(new double[313]))!.Message, Does.Contain("zero"));
        Assert.Throws<ArgumentException>(() => ColorPrior.FromHistogram(new BinHistogram()));
    }

    private static void AssertRelClose(double[] got, double[] expected, string what)
    {
        Assert.That(got.Length, Is.EqualTo(expected.Length), what);
        for (int i = 0; i < got.Length; i++)
            Assert.That(got[i], Is.EqualTo(expected[i]).Within(1e-9 * Math.Abs(expected[i]) + 1e-15), $"{what}[{i}]");
    }
}
