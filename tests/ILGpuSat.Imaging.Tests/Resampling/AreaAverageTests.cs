using ILGpuSat.Imaging.Resampling;
using NUnit.Framework;

namespace ILGpuSat.Imaging.Tests.Resampling;

public sealed class AreaAverageTests
{
    [Test]
    public void AWholeFactorGivesTheBlockMeans()
    {
        var rng = new Random(3);
        int w = 12, h = 8, f = 4;
        var plane = Enumerable.Range(0, w * h).Select(_ => (float)rng.NextDouble()).ToArray();
        var shrunk = AreaAverage.Shrink(plane, w, h, w / f, h / f);
        for (int oy = 0; oy < h / f; oy++)
            for (int ox = 0; ox < w / f; ox++)
            {
                double sum = 0;
                for (int y = 0; y < f; y++)
                    for (int x = 0; x < f; x++) sum += plane[(oy * f + y) * w + ox * f + x];
                Assert.That(shrunk[oy * (w / f) + ox], Is.EqualTo(sum / (f * f)).Within(1e-6));
            }
    }

    [Test]
    public void AFractionalFactorWeighsThePixelsByTheAreaTheyShare()
    {
        // 3 -> 2: each output pixel covers 1.5 inputs; the middle one is shared half and half.
        var shrunk = AreaAverage.Shrink([1f, 4f, 10f], 3, 1, 2, 1);
        Assert.That(shrunk[0], Is.EqualTo((1 + 0.5 * 4) / 1.5).Within(1e-6));
        Assert.That(shrunk[1], Is.EqualTo((0.5 * 4 + 10) / 1.5).Within(1e-6));
        var rng = new Random(1);
        var plane = Enumerable.Range(0, 37 * 23).Select(_ => (float)rng.NextDouble()).ToArray();
        var odd = AreaAverage.Shrink(plane, 37, 23, 10, 7);
        Assert.That(odd.Average(), Is.EqualTo(plane.Average()).Within(1e-5), "area averaging keeps the mean");
        Assert.That(AreaAverage.Shrink(plane, 37, 23, 37, 23), Is.EqualTo(plane).Within(1e-6), "the same size is the identity");
    }

    [Test]
    public void ItOnlyShrinks()
    {
        Assert.That(() => AreaAverage.Shrink(new float[4], 2, 2, 3, 2), Throws.ArgumentException.With.Message.Contains("only shrinks"));
        Assert.That(() => AreaAverage.Shrink(new float[5], 2, 2, 1, 1), Throws.ArgumentException.With.Message.Contains("5 values"));
    }
}
