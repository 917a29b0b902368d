using ILGpuSat.Imaging.Color;
using ILGpuSat.Training.Data;
using NUnit.Framework;

namespace ILGpuSat.Training.Tests.Data;

/// <summary>The LR L* input and the HR a*b* target are made only when asked for, and hold what they say.</summary>
public class PatchExtrasTests
{
    private static (float[][] Rgb, int W, int H) Image()
    {
        int w = 40, h = 36;
        var rgb = new[] { new float[w * h], new float[w * h], new float[w * h] };
        var rng = new Random(3);
        for (int i = 0; i < w * h; i++)
        {
            rgb[0][i] = (float)rng.NextDouble();
            rgb[1][i] = 0.3f + 0.4f * (i % w) / w;
            rgb[2][i] = 0.8f * (i / w) / h;
        }
        return (rgb, w, h);
    }

    [Test]
    public void ExtrasAreAbsentUnlessAskedFor()
    {
        var (rgb, w, h) = Image();
        var maker = new PatchMaker(new PatchResampler(16, 4, DataFixtures.LinearResize));
        var rec = maker.Make(rgb, w, h, 5, 7, "x");
        Assert.That(rec.LowInput, Is.Null);
        Assert.That(rec.AbTarget, Is.Null);
        var batch = new TrainingBatch(0, 2, 16, 4);
        Assert.That(batch.LowResInput, Is.Null);
        Assert.That(batch.AbTarget, Is.Null);
    }

    [Test]
    public void LowInputIsTheLrLightnessAndAbTargetTheScaledHrColour()
    {
        var (rgb, w, h) = Image();
        const int p = 16, t = 4, x0 = 5, y0 = 7;
        const float abScale = 1f / 110f;
        var resampler = new PatchResampler(p, 4, DataFixtures.LinearResize);
        var rec = new PatchMaker(resampler, PatchExtras.LowResolutionInput | PatchExtras.AbTarget, abScale).Make(rgb, w, h, x0, y0, "x");

        // By hand: the HR crop's Lab, and the LR (down, clamped) crop's L*.
        var crop = new float[3][];
        for (int c = 0; c < 3; c++)
        {
            crop[c] = new float[p * p];
            for (int y = 0; y < p; y++)
                for (int x = 0; x < p; x++) crop[c][y * p + x] = rgb[c][(y0 + y) * w + x0 + x];
        }
        var hl = new float[p * p]; var ha = new float[p * p]; var hb = new float[p * p];
        Lab.RgbToLab(crop[0], crop[1], crop[2], hl, ha, hb);
        Assert.That(rec.AbTarget, Has.Length.EqualTo(2 * p * p));
        for (int i = 0; i < p * p; i++)
        {
            Assert.That(rec.AbTarget![i], Is.EqualTo(ha[i] * abScale).Within(1e-6f));
            Assert.That(rec.AbTarget[p * p + i], Is.EqualTo(hb[i] * abScale).Within(1e-6f));
        }
        var low = crop.Select(c =>
        {
            var d = new float[t * t];
            resampler.Down(c, d);
            for (int i = 0; i < d.Length; i++) d[i] = Math.Clamp(d[i], 0f, 1f);
            return d;
        }).ToArray();
        var ll = new float[t * t];
        Lab.RgbToL(low[0], low[1], low[2], ll);
        Assert.That(rec.LowInput, Has.Length.EqualTo(t * t));
        for (int i = 0; i < t * t; i++) Assert.That(rec.LowInput![i], Is.EqualTo(PatchMaker.NormaliseL(ll[i])).Within(1e-4f));
    }

    [Test]
    public void DatasetBatchesCarryTheExtrasWithTheSameAugmentation()
    {
        using var fx = new DataFixtures();
        var folder = fx.Folder("sat");
        for (int i = 0; i < 2; i++) fx.WritePng(folder, $"s{i}.png", 48, 48, i);
        var options = new PatchDatasetOptions
        {
            SatelliteInputs = [folder], PatchSize = 16, Stride = 16, BatchSize = 4, Seed = 2, Workers = 1, ShuffleBuffer = 4,
            Resize = DataFixtures.LinearResize, Augmentation = Augmentation.AllEight,
            Extras = PatchExtras.LowResolutionInput | PatchExtras.AbTarget,
        };
        using var ds = PatchDataset.Open(options);
        var batch = ds.NextBatch();
        Assert.That(batch.LowResInput, Has.Length.EqualTo(4 * 4 * 4));
        Assert.That(batch.AbTarget, Has.Length.EqualTo(4 * 2 * 16 * 16));
        // The colour target at 1/4 is the soft encoding of the LR a*b*: its expected bin centre follows the HR a*b*
        // mean over each 4x4 block in sign (same orientation), which an un-augmented or mis-rotated plane would not.
        int agree = 0, total = 0;
        for (int s = 0; s < 4; s++)
            for (int by = 0; by < 4; by++)
                for (int bx = 0; bx < 4; bx++)
                {
                    double hrA = 0;
                    for (int y = 0; y < 4; y++)
                        for (int x = 0; x < 4; x++) hrA += batch.AbTarget![(2 * s) * 256 + (4 * by + y) * 16 + 4 * bx + x];
                    double expectedA = 0;
                    for (int q = 0; q < AbBins.Count; q++) expectedA += batch.ColorTarget[((long)s * AbBins.Count + q) * 16 + by * 4 + bx] * AbBins.Default.A[q];
                    if (Math.Abs(expectedA) < 3) continue;
                    total++;
                    if (Math.Sign(hrA) == Math.Sign(expectedA)) agree++;
                }
        Assert.That(total, Is.GreaterThan(8));
        Assert.That(agree, Is.GreaterThanOrEqualTo(total * 9 / 10), $"{agree} of {total} blocks agree in the sign of a*");
    }
}
