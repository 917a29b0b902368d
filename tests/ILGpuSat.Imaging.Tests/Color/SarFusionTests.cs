using ILGpuSat.Imaging.Color;
using ILGpuSat.Imaging.Imagery;
using NUnit.Framework;

namespace ILGpuSat.Imaging.Tests.Color;

/// <summary>The SAR / optical Lab fusion against scikit-image (tests/golden/color/make_sar_fusion_golden.py).</summary>
public class SarFusionTests
{
    private const double Tolerance = 2e-4;

    private static float[][] Planes(double[] values, int n) => Enumerable.Range(0, values.Length / n).Select(b => values.Skip(b * n).Take(n).Select(v => (float)v).ToArray()).ToArray();

    [Test]
    public void ARealPairFusesAsSkimageDoesFrom8BitAndFromLinearSigma0()
    {
        using var g = ColorGolden.Open("sar_fusion.json");
        int n = (int)g.Scalar("width") * (int)g.Scalar("height");
        var optical = Planes(g.Vector("optical_rgb"), n);

        var sar8 = new RasterImage(24, 24, [g.Vector("sar_8bit").Select(v => (float)v).ToArray()], sourceBitDepth: 8);
        var scaled8 = SarFusion.ScaledSigma0(sar8);
        Assert.That(scaled8.Max(), Is.GreaterThan(0.2f), "the crop has structure");
        AssertClose(SarFusion.Fuse(scaled8, optical), Planes(g.Vector("fused_from_8bit"), n), "8-bit SAR");

        var linear = new RasterImage(24, 24, [g.Vector("sar_linear").Select(v => (float)v).ToArray()], sourceBitDepth: 32);
        var scaled = SarFusion.ScaledSigma0(linear);
        Assert.That(scaled, Is.EqualTo(g.Vector("linear_scaled").Select(v => (float)v).ToArray()).Within(1e-5), "auto: fractions are linear power, [-25, 0] dB");
        AssertClose(SarFusion.Fuse(scaled, optical), Planes(g.Vector("fused_from_linear"), n), "linear SAR");
    }

    [Test]
    public void UnitsAreReadAsTheyAreDeclaredOrDetected()
    {
        var db = new RasterImage(3, 1, [[-25f, -12.5f, 3f]], sourceBitDepth: 32);
        Assert.That(SarFusion.ScaledSigma0(db), Is.EqualTo(new[] { 0f, 0.5f, 1f }), "negative floats are dB (clipped above 0 dB)");
        var custom = SarFusion.ScaledSigma0(db, new SarFusionOptions { Units = SarUnits.Decibels, DbMin = -30, DbMax = 5 });
        Assert.That(custom, Is.EqualTo(new[] { 5f / 35, 17.5f / 35, 33f / 35 }).Within(1e-6));
        var sixteen = new RasterImage(2, 1, [[0f, 65535f]], sourceBitDepth: 16);
        Assert.That(SarFusion.ScaledSigma0(sixteen), Is.EqualTo(new[] { 0f, 1f }), "16-bit display values / 65535");
        Assert.That(() => SarFusion.ScaledSigma0(db, new SarFusionOptions { DbMin = 0, DbMax = 0 }), Throws.ArgumentException.With.Message.Contains("dB range"));
        Assert.That(() => SarFusion.Fuse(new float[3], [new float[3], new float[3]]), Throws.ArgumentException.With.Message.Contains("3 bands"));
    }

    [Test]
    public void TheFusedImageHasTheSarsLightnessAndTheOpticalHues()
    {
        var rng = new Random(4);
        int n = 200;
        var optical = Enumerable.Range(0, 3).Select(_ => Enumerable.Range(0, n).Select(_ => 0.2f + 0.6f * (float)rng.NextDouble()).ToArray()).ToArray();
        var sigma = Enumerable.Range(0, n).Select(_ => 0.3f + 0.4f * (float)rng.NextDouble()).ToArray();
        var fused = SarFusion.Fuse(sigma, optical);
        var (l, a, b) = (new float[n], new float[n], new float[n]);
        Lab.RgbToLab(fused[0], fused[1], fused[2], l, a, b);
        var (_, a0, b0) = (new float[n], new float[n], new float[n]);
        Lab.RgbToLab(optical[0], optical[1], optical[2], new float[n], a0, b0);
        int inGamut = 0;
        for (int i = 0; i < n; i++)
        {
            if (fused.Any(p => p[i] is <= 0f or >= 1f)) continue; // clipped colours lose a*b*
            inGamut++;
            Assert.That(l[i], Is.EqualTo(100 * sigma[i]).Within(1e-2));
            Assert.That(a[i], Is.EqualTo(a0[i]).Within(1e-2));
            Assert.That(b[i], Is.EqualTo(b0[i]).Within(1e-2));
        }
        Assert.That(inGamut, Is.GreaterThan(n / 2));
    }

    private static void AssertClose(float[][] actual, float[][] expected, string what)
    {
        for (int c = 0; c < 3; c++)
            for (int i = 0; i < expected[c].Length; i++)
                Assert.That(actual[c][i], Is.EqualTo(expected[c][i]).Within(Tolerance), $"{what}: band {c}, pixel {i}");
    }
}
