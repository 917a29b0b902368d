using NUnit.Framework;
using ILGpuSat.Imaging.Color;

namespace ILGpuSat.Imaging.Tests.Color;

public class LabTests
{
    private const double Tolerance = 1e-4;

    [Test]
    public void RgbToLabMatchesSkimage()
    {
        using var g = ColorGolden.Open("rgb2lab.json");
        var (r, gr, b) = (g.Column("rgb", 0), g.Column("rgb", 1), g.Column("rgb", 2));
        var expected = g.Matrix("lab");
        Assert.That(r.Length % System.Numerics.Vector<float>.Count, Is.Not.Zero, "length should exercise the tail path");
        var (l, a, bb) = (new float[r.Length], new float[r.Length], new float[r.Length]);
        Lab.RgbToLab(r, gr, b, l, a, bb);
        AssertClose(expected, l, a, bb, "rgb2lab");
    }

    [Test]
    public void LabToRgbMatchesSkimageIncludingClipping()
    {
        using var g = ColorGolden.Open("lab2rgb.json");
        var (l, a, b) = (g.Column("lab", 0), g.Column("lab", 1), g.Column("lab", 2));
        var expected = g.Matrix("rgb");
        Assert.That(expected.Count(row => row.Any(v => v == 0 || v == 1)), Is.GreaterThan(50), "references must include clipped colours");
        var (r, gr, bb) = (new float[l.Length], new float[l.Length], new float[l.Length]);
        Lab.LabToRgb(l, a, b, r, gr, bb);
        AssertClose(expected, r, gr, bb, "lab2rgb");
    }

    [Test]
    public void RgbToLOnlyEqualsLOfFullConversion()
    {
        var rng = new Random(3);
        int n = 1001;
        var rgb = Enumerable.Range(0, 3 * n).Select(_ => (float)rng.NextDouble()).ToArray();
        var lab = new float[3 * n];
        Lab.RgbToLab(rgb, lab, n);
        var l = new float[n];
        Lab.RgbToL(rgb.AsSpan(0, n), rgb.AsSpan(n, n), rgb.AsSpan(2 * n, n), l);
        Assert.That(l, Is.EqualTo(lab.AsSpan(0, n).ToArray()));
    }

    [Test]
    public void PlanarMultithreadedPathEqualsSpanPath()
    {
        var rng = new Random(5);
        int n = Lab.ParallelThreshold * 3 + 13; // big enough to split over threads, with a tail
        var rgb = Enumerable.Range(0, 3 * n).Select(_ => (float)rng.NextDouble()).ToArray();
        var threaded = new float[3 * n];
        Lab.RgbToLab(rgb, threaded, n);
        var (l, a, b) = (new float[n], new float[n], new float[n]);
        Lab.RgbToLab(rgb.AsSpan(0, n), rgb.AsSpan(n, n), rgb.AsSpan(2 * n, n), l, a, b);
        Assert.That(threaded, Is.EqualTo(l.Concat(a).Concat(b).ToArray()));

        var back = new float[3 * n];
        Lab.LabToRgb(threaded, back, n);
        double maxErr = 0;
        for (int i = 0; i < 3 * n; i++) maxErr = Math.Max(maxErr, Math.Abs(back[i] - rgb[i]));
        Assert.That(maxErr, Is.LessThan(2e-4), "sRGB -> Lab -> sRGB round trip");
    }

    [Test]
    public void MismatchedPlanesThrowWithOpName()
    {
        var ex = Assert.Throws<ArgumentException>(() => Lab.RgbToLab(new float[3], new float[3], new float[2], new float[3], new float[3], new float[3]));
        Assert.That(ex!.Message, Does.Contain("Lab.RgbToLab"));
    }

    private static void AssertClose(double[][] expected, float[] c0, float[] c1, float[] c2, string what)
    {
        double worst = 0;
        int worstAt = -1;
        for (int i = 0; i < expected.Length; i++)
        {
            double e = Math.Max(Math.Abs(c0[i] - expected[i][0]), Math.Max(Math.Abs(c1[i] - expected[i][1]), Math.Abs(c2[i] - expected[i][2])));
            if (e > worst) { worst = e; worstAt = i; }
        }
        TestContext.Out.WriteLine($"{what}: max abs error {worst:E2} at row {worstAt}");
        Assert.That(worst, Is.LessThanOrEqualTo(Tolerance), $"{what} row {worstAt}: got ({c0[worstAt]}, {c1[worstAt]}, {c2[worstAt]}), expected ({string.Join(", ", expected[worstAt])})");
    }
}
