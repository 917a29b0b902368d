using ILGpuSat.Imaging.Color;
using ILGpuSat.Training.Color;
using ILGpuSat.Training.Tests.Data;
using NUnit.Framework;
using ILGpuSat.Imaging.Imagery;

namespace ILGpuSat.Training.Tests.Color;

public class PriorBuilderTests
{
    [Test]
    public void BuildsFusedPriorWeightsAndFigureFromImages()
    {
        using var fx = new DataFixtures();
        var folder = fx.Folder("imgs");
        // Two flat-colour images: every pixel of each lands in one bin.
        byte[][] colours = [[200, 60, 40], [40, 120, 200]];
        for (int i = 0; i < colours.Length; i++)
            WriteFlat(Path.Combine(folder, $"c{i}.png"), 20, 10 + 10 * i, colours[i]);
        fx.WriteGarbage(folder, "broken.jpg");
        var calls = new List<PriorProgress>();
        var prefix = Path.Combine(fx.Root, "out", "test");
        var result = PriorBuilder.Run([folder], prefix, mix: 0.25, progress: calls.Add);

        Assert.That(result.Images, Is.EqualTo(2));
        Assert.That(result.Skipped, Is.EqualTo(1));
        Assert.That(result.Failures.Single(), Does.Contain("broken.jpg"));
        Assert.That(result.Pixels, Is.EqualTo(20 * 10 + 20 * 20));
        Assert.That(calls.Select(c => c.Done), Is.EqualTo(new[] { 1, 2, 3 }));

        // Expected: histogram of the two colours' bins (200 and 400 pixels), smoothed, fused 0.75/0.25.
        var counts = new double[AbBins.Count];
        for (int i = 0; i < colours.Length; i++)
        {
            var (l, a, b) = (new float[1], new float[1], new float[1]);
            Lab.RgbToLab([colours[i][0] / 255f], [colours[i][1] / 255f], [colours[i][2] / 255f], l, a, b);
            counts[AbBins.Default.Nearest(a[0], b[0])] += 200 * (i + 1);
        }
        var expectedData = ColorPrior.FromProbabilities(counts).Smooth();
        Assert.That(result.DataPrior.Probabilities.ToArray(), Is.EqualTo(expectedData.Probabilities.ToArray()).Within(1e-12));
        var expectedFused = expectedData.FuseWith(ColorPrior.ImageNet, 0.25);
        Assert.That(result.FusedPrior.Probabilities.ToArray(), Is.EqualTo(expectedFused.Probabilities.ToArray()).Within(1e-12));
        Assert.That(Enumerable.Range(0, AbBins.Count).Sum(q => result.FusedPrior[q] * result.Weights[q]), Is.EqualTo(1.0).Within(1e-12));

        // Files: priors and weights load back; the figure is a PNG.
        Assert.That(PriorFiles.LoadPrior(prefix + "_prior.npy").Probabilities.ToArray(), Is.EqualTo(result.FusedPrior.Probabilities.ToArray()));
        Assert.That(PriorFiles.LoadPrior(prefix + "_data_prior.txt").Probabilities.ToArray(), Is.EqualTo(result.DataPrior.Probabilities.ToArray()));
        Assert.That(PriorFiles.LoadWeights(prefix + "_weights.txt"), Is.EqualTo(result.Weights));
        Assert.That(PriorFiles.LoadWeights(prefix + "_weights.npy"), Is.EqualTo(result.Weights));
        var png = File.ReadAllBytes(prefix + "_prior.png");
        Assert.That(png.Take(4).ToArray(), Is.EqualTo(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }));
        Assert.That(result.Files, Has.Count.EqualTo(7));
    }

    [Test]
    public void HeatMapColoursFollowLogProbability()
    {
        var p = new double[AbBins.Count];
        Array.Fill(p, 1e-6);
        int hot = AbBins.Default.IndexOf(0, 0), warm = AbBins.Default.IndexOf(50, 50);
        p[hot] = 0.5;
        p[warm] = 1e-3;
        var prior = ColorPrior.FromProbabilities(p);
        var img = PriorHeatMap.Render([("One", prior), ("Two", ColorPrior.ImageNet)], out int w, out int h);
        Assert.That(img.Length, Is.EqualTo(w * h * 3));
        // Cell centres of panel 0 (layout: left margin 44, top 34, 12-px cells, b up).
        int Brightness(int a, int b)
        {
            int x = 44 + (a + 110) / 10 * 12 + 6, y = 34 + (22 - (b + 110) / 10) * 12 + 6;
            int i = (y * w + x) * 3;
            return img[i] + img[i + 1] + img[i + 2];
        }
        Assert.That(Brightness(0, 0), Is.GreaterThan(Brightness(50, 50)));
        Assert.That(Brightness(50, 50), Is.GreaterThan(Brightness(-30, 20)));
        Assert.That(Brightness(-110, -110), Is.EqualTo(3 * 215), "outside the gamut is grey");
        // The title row has ink.
        Assert.That(Enumerable.Range(0, w).Any(x => img[(12 * w + x) * 3] < 100), Is.True);
    }

    private static void WriteFlat(string path, int w, int h, byte[] rgb)
    {
        var image = RasterImage.Create(w, h, 3);
        for (int b = 0; b < 3; b++) Array.Fill(image.Planes[b], rgb[b] / 255f);
        ImageWriter.Write(path, image, new WriteOptions { Format = ImageFileFormat.Png });
    }
}
