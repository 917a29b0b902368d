using ILGpuSat.Imaging.Color;
using ILGpuSat.Training.Data;
using NUnit.Framework;

namespace ILGpuSat.Training.Tests.Data;

public class PatchMakerTests
{
    [Test]
    public void ResamplerTapsReproduceTheResize()
    {
        var r = new PatchResampler(96, 4, DataFixtures.LinearResize);
        var rng = new Random(4);
        var patch = Enumerable.Range(0, 96 * 96).Select(_ => (float)rng.NextDouble()).ToArray();
        var low = new float[24 * 24];
        r.Down(patch, low);
        Assert.That(low, Is.EqualTo(DataFixtures.LinearResize(patch, 96, 96, 24, 24)).Within(1e-5f));
        var up = new float[96 * 96];
        r.Up(low, up);
        Assert.That(up, Is.EqualTo(DataFixtures.LinearResize(low, 24, 24, 96, 96)).Within(1e-5f));
    }

    [Test]
    public void ClampingResizeIsRejected()
    {
        PlaneResize clamping = (p, w, h, ow, oh) =>
            DataFixtures.LinearResize(p, w, h, ow, oh).Select(v => Math.Min(v, 0.3f)).ToArray();
        var ex = Assert.Throws<ArgumentException>(() => new PatchResampler(96, 4, clamping));
        Assert.That(ex!.Message, Does.Contain("linear"));
    }

    [Test]
    public void PatchHoldsLOfTheCropAndAbAtQuarterResolution()
    {
        var maker = new PatchMaker(new PatchResampler(96, 4, DataFixtures.LinearResize));
        int w = 130, h = 120;
        var rng = new Random(9);
        var rgb = Enumerable.Range(0, 3).Select(_ => Enumerable.Range(0, w * h).Select(_ => (float)rng.NextDouble()).ToArray()).ToArray();
        var rec = maker.Make(rgb, w, h, 27, 13, "x.png");
        Assert.That(rec.Input.Length, Is.EqualTo(96 * 96));
        Assert.That(rec.A.Length, Is.EqualTo(24 * 24));
        // SR target = normalised L* of the crop.
        foreach (var (y, x) in new[] { (0, 0), (95, 95), (40, 7) })
        {
            int i = (13 + y) * w + 27 + x;
            var l = new float[1];
            Lab.RgbToL([rgb[0][i]], [rgb[1][i]], [rgb[2][i]], l);
            Assert.That(rec.SrTarget[y * 96 + x], Is.EqualTo(PatchMaker.NormaliseL(l[0])).Within(1e-6f));
        }
        Assert.That(rec.Input.Concat(rec.SrTarget).All(v => v >= -0.5f && v <= 0.5f), Is.True, "normalised L* lies in [-0.5, 0.5]");
        // Blurring a noisy patch: the LR input is smoother than the target.
        Assert.That(Variance(rec.Input), Is.LessThan(Variance(rec.SrTarget)));
    }

    [Test]
    public void FlatColourGivesItsOwnLabEverywhere()
    {
        var maker = new PatchMaker(new PatchResampler(96, 4, DataFixtures.LinearResize));
        float[] colour = [0.8f, 0.4f, 0.1f];
        var rgb = colour.Select(c => Enumerable.Repeat(c, 100 * 100).ToArray()).ToArray();
        var rec = maker.Make(rgb, 100, 100, 0, 0, "flat");
        var (l, a, b) = (new float[1], new float[1], new float[1]);
        Lab.RgbToLab([colour[0]], [colour[1]], [colour[2]], l, a, b);
        Assert.That(rec.Input, Is.All.EqualTo(PatchMaker.NormaliseL(l[0])).Within(1e-5f));
        Assert.That(rec.SrTarget, Is.All.EqualTo(PatchMaker.NormaliseL(l[0])).Within(1e-5f));
        Assert.That(rec.A, Is.All.EqualTo(a[0]).Within(1e-3f));
        Assert.That(rec.B, Is.All.EqualTo(b[0]).Within(1e-3f));
        Assert.That(PatchMaker.DenormaliseL(PatchMaker.NormaliseL(37f)), Is.EqualTo(37f).Within(1e-5f));
    }

    private static double Variance(float[] x)
    {
        double m = x.Average(v => (double)v);
        return x.Average(v => (v - m) * (v - m));
    }
}

public class MatlabBicubicPatchTests
{
    [Test]
    public void BicubicTapsReproduceTheProjectResampler()
    {
        // The constructor itself checks taps against Resampler.Resize on a random patch; here also
        // the known shape of MATLAB's antialiased x1/4 bicubic: 16 taps, symmetric, summing to 1.
        var r = new PatchResampler(96, 4, PatchResampler.MatlabBicubic);
        var impulse = new float[96 * 96];
        impulse[40 * 96 + 41] = 1f;
        var low = new float[24 * 24];
        r.Down(impulse, low);
        var direct = ILGpuSat.Imaging.Resampling.Resampler.Resize(impulse, 96, 96, 24, 24);
        Assert.That(low, Is.EqualTo(direct).Within(1e-6f));
        var ones = Enumerable.Repeat(0.7f, 96 * 96).ToArray();
        r.Down(ones, low);
        Assert.That(low, Is.All.EqualTo(0.7f).Within(1e-5f));
        var up = new float[96 * 96];
        r.Up(low, up);
        Assert.That(up, Is.All.EqualTo(0.7f).Within(1e-5f));
    }
}
