using ILGpuSat.Imaging.Color;
using ILGpuSat.Training.Data;
using NUnit.Framework;

namespace ILGpuSat.Training.Tests.Data;

public class PatchDatasetTests
{
    private DataFixtures _fx = null!;
    private string _sat = null!, _nat = null!;

    [OneTimeSetUp]
    public void MakeImages()
    {
        _fx = new DataFixtures();
        _sat = _fx.Folder("sat");
        _nat = _fx.Folder("nat");
        for (int i = 0; i < 6; i++) _fx.WritePng(_sat, $"s{i}.png", 150, 150, i);            // 9 patches each
        for (int i = 0; i < 3; i++) _fx.WritePng(_nat, $"n{i}.png", 200 + 10 * i, 130, 100 + i);
        _fx.WritePng(_sat, "tiny.png", 80, 200, 50);                                           // too small
        _fx.WritePng(_nat, "thin.png", 300, 95, 51);                                           // too small
    }

    [OneTimeTearDown]
    public void Clean() => _fx.Dispose();

    private PatchDatasetOptions Options(int seed, int workers = 2) => new()
    {
        SatelliteInputs = [_sat],
        NaturalInputs = [_nat],
        BatchSize = 6,
        Seed = seed,
        Workers = workers,
        ShuffleBuffer = 16,
        Prefetch = 2,
        Resize = DataFixtures.LinearResize,
    };

    [Test]
    public void SameSeedGivesIdenticalBatchesWhateverTheWorkerCount()
    {
        var one = FirstBatches(Options(7, workers: 1), 3);
        var three = FirstBatches(Options(7, workers: 3), 3);
        for (int i = 0; i < 3; i++)
        {
            Assert.That(three[i].Origins, Is.EqualTo(one[i].Origins), $"batch {i} origins");
            Assert.That(three[i].Input, Is.EqualTo(one[i].Input), $"batch {i} input");
            Assert.That(three[i].SrTarget, Is.EqualTo(one[i].SrTarget), $"batch {i} target");
            Assert.That(three[i].ColorTarget, Is.EqualTo(one[i].ColorTarget), $"batch {i} colour");
            Assert.That(three[i].Weights, Is.EqualTo(one[i].Weights), $"batch {i} weights");
        }
        var other = FirstBatches(Options(8), 3);
        Assert.That(Enumerable.Range(0, 3).All(i => other[i].Origins.SequenceEqual(one[i].Origins)), Is.False,
                    "a different seed must give different batches");
    }

    [Test]
    public void BatchesHaveTheDocumentedShapesAndTargets()
    {
        using var ds = PatchDataset.Open(Options(1));
        var batch = ds.NextBatch();
        Assert.That(batch.InputShape, Is.EqualTo(new[] { 6, 1, 96, 96 }));
        Assert.That(batch.ColorTargetShape, Is.EqualTo(new[] { 6, 313, 24, 24 }));
        Assert.That(batch.WeightsShape, Is.EqualTo(new[] { 6, 1, 24, 24 }));
        Assert.That(batch.Input.Length, Is.EqualTo(6 * 96 * 96));
        Assert.That(batch.ColorTarget.Length, Is.EqualTo(6 * 313 * 24 * 24));
        Assert.That(batch.Weights.Length, Is.EqualTo(6 * 24 * 24));
        var imageNetWeights = ColorPrior.ImageNet.RebalancingWeights().Select(w => (float)w).ToHashSet();
        int tt = 24 * 24;
        for (int s = 0; s < batch.Count; s++)
            for (int p = 0; p < tt; p += 37)
            {
                double sum = 0;
                for (int q = 0; q < 313; q++) sum += batch.ColorTarget[(s * 313 + q) * tt + p];
                Assert.That(sum, Is.EqualTo(1.0).Within(1e-5), $"sample {s} pixel {p}: soft target sums to 1");
                Assert.That(imageNetWeights.Contains(batch.Weights[s * tt + p]), Is.True, "weight is a bin's rebalancing weight");
            }
        Assert.That(batch.Input.All(v => v is >= -0.5f and <= 0.5f), Is.True);
    }

    [Test]
    public void CatalogCountsPatchesAndSkipsTooSmallImages()
    {
        using var ds = PatchDataset.Open(Options(1));
        Assert.That(ds.Satellite.Images.Count, Is.EqualTo(6));
        Assert.That(ds.Satellite.TotalPatches, Is.EqualTo(6 * 9));
        Assert.That(ds.Natural.Images.Select(e => e.Patches),
                    Is.EqualTo(new[] { 0, 1, 2 }.Select(i => PatchGrid.Count(200 + 10 * i, 130, 96, 27))));
        Assert.That(ds.Satellite.SkippedTooSmall + ds.Natural.SkippedTooSmall, Is.EqualTo(2));
        Assert.That(ds.Statistics.SkippedTooSmall, Is.EqualTo(2));
    }

    [Test]
    public void UnreadableImagesAreCountedOrFailOnRequest()
    {
        var folder = _fx.Folder("broken");
        _fx.WritePng(folder, "good.png", 100, 100, 3);
        _fx.WriteGarbage(folder, "bad1.jpg");
        _fx.WriteGarbage(folder, "bad2.jpg");
        var options = Options(1) with { SatelliteInputs = [folder], NaturalInputs = [], BatchSize = 2 };
        using (var ds = PatchDataset.Open(options))
        {
            ds.NextBatch();
            Assert.That(ds.Statistics.SkippedUnreadable, Is.EqualTo(2));
            Assert.That(ds.Statistics.Failures.Count(f => f.Contains("bad1.jpg") || f.Contains("bad2.jpg")), Is.EqualTo(2));
        }
        Assert.Catch(() => PatchDataset.Open(options with { FailOnUnreadable = true }));
    }

    [Test]
    public void SatelliteFractionControlsTheMix()
    {
        using var ds = PatchDataset.Open(Options(3) with { SatelliteFraction = 0.25, BatchSize = 50 });
        int sat = 0, total = 0;
        for (int i = 0; i < 4; i++)
        {
            var b = ds.NextBatch();
            sat += b.Origins.Count(o => o.Satellite);
            total += b.Count;
        }
        // Binomial(200, 0.25): mean 50, sd 6.1.
        Assert.That(sat, Is.InRange(30, 70));
        using var onlySat = PatchDataset.Open(Options(3) with { SatelliteFraction = 1 });
        Assert.That(onlySat.NextBatch().Origins.All(o => o.Satellite), Is.True);
    }

    [Test]
    public void AllEightEmitsEveryOrientationOfAPatch()
    {
        var folder = _fx.Folder("single");
        _fx.WritePng(folder, "one.png", 96, 96, 21);
        var options = Options(5) with { SatelliteInputs = [folder], NaturalInputs = [], BatchSize = 8, ShuffleBuffer = 1, Augmentation = Augmentation.AllEight };
        using var ds = PatchDataset.Open(options);
        var batch = ds.NextBatch();
        Assert.That(batch.Origins.Select(o => o.Dihedral).OrderBy(m => m), Is.EqualTo(Enumerable.Range(0, 8)));
        int pp = 96 * 96;
        int identity = Array.FindIndex(batch.Origins, o => o.Dihedral == 0);
        var reference = batch.Input.AsSpan(identity * pp, pp).ToArray();
        var expected = new float[pp];
        for (int s = 0; s < 8; s++)
        {
            Dihedral.Apply(reference, expected, 96, batch.Origins[s].Dihedral);
            Assert.That(batch.Input.AsSpan(s * pp, pp).ToArray(), Is.EqualTo(expected), $"sample {s}");
        }
    }

    [Test]
    public void CancellationAndDisposeStopThePipeline()
    {
        var ds = PatchDataset.Open(Options(1));
        ds.NextBatch();
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        Assert.CatchAsync<OperationCanceledException>(async () => await ds.NextBatchAsync(cts.Token));
        ds.Dispose();
        Assert.Throws<ObjectDisposedException>(() => ds.NextBatch());
    }

    private static List<TrainingBatch> FirstBatches(PatchDatasetOptions options, int n)
    {
        using var ds = PatchDataset.Open(options);
        return Enumerable.Range(0, n).Select(_ => ds.NextBatch()).ToList();
    }
}

public class PatchDatasetEndToEndTests
{
    [Test]
    public void BatchSampleEqualsTheRecipeRecomputedByHand()
    {
        using var fx = new DataFixtures();
        var folder = fx.Folder("e2e");
        fx.WritePng(folder, "a.png", 150, 123, 1);
        fx.WritePng(folder, "b.png", 130, 140, 2);
        // Default Resize = MATLAB bicubic from Training/Resampling.
        using var ds = PatchDataset.Open(new PatchDatasetOptions { SatelliteInputs = [folder], BatchSize = 3, Seed = 4, Workers = 2, ShuffleBuffer = 4 });
        var batch = ds.NextBatch();
        var maker = new PatchMaker(new PatchResampler(96, 4, PatchResampler.MatlabBicubic));
        var encoder = new SoftEncoder(AbBins.Default, 5, 5f);
        var weights = ColorPrior.ImageNet.RebalancingWeights();
        int pp = 96 * 96, tt = 24 * 24;
        for (int s = 0; s < batch.Count; s++)
        {
            var o = batch.Origins[s];
            var image = ILGpuSat.Imaging.Imagery.ImageReader.Read(o.File);
            var rec = maker.Make(image.Planes, image.Width, image.Height, o.X, o.Y, o.File);
            var expected = new float[pp];
            Dihedral.Apply(rec.Input, expected, 96, o.Dihedral);
            Assert.That(batch.Input.AsSpan(s * pp, pp).ToArray(), Is.EqualTo(expected), $"sample {s} input");
            Dihedral.Apply(rec.SrTarget, expected, 96, o.Dihedral);
            Assert.That(batch.SrTarget.AsSpan(s * pp, pp).ToArray(), Is.EqualTo(expected), $"sample {s} SR target");
            var (a, b) = (new float[tt], new float[tt]);
            Dihedral.Apply(rec.A, a, 24, o.Dihedral);
            Dihedral.Apply(rec.B, b, 24, o.Dihedral);
            var colour = new float[313 * tt];
            encoder.Encode(a, b, colour);
            Assert.That(batch.ColorTarget.AsSpan(s * 313 * tt, 313 * tt).ToArray(), Is.EqualTo(colour), $"sample {s} colour");
            for (int p = 0; p < tt; p++)
                Assert.That(batch.Weights[s * tt + p], Is.EqualTo((float)weights[AbBins.Default.Nearest(a[p], b[p])]), $"sample {s} weight {p}");
        }
    }
}

public class PatchDatasetFailureTests
{
    [Test]
    public void DecodeFailureAfterIndexingIsSkippedOrRaisedFromNextBatch()
    {
        using var fx = new DataFixtures();
        var folder = fx.Folder("late");
        fx.WritePng(folder, "good.png", 100, 100, 1);
        // A valid PNG header (size 120x120) followed by garbage: indexing accepts it, decoding fails.
        var header = File.ReadAllBytes(fx.WritePng(folder, "tmp.png", 120, 120, 2)).Take(33).ToArray();
        File.Delete(Path.Combine(folder, "tmp.png"));
        File.WriteAllBytes(Path.Combine(folder, "late.png"), header.Concat(new byte[64]).ToArray());
        var options = new PatchDatasetOptions { SatelliteInputs = [folder], BatchSize = 4, ShuffleBuffer = 2, Workers = 2, Resize = DataFixtures.LinearResize };

        using (var ds = PatchDataset.Open(options))
        {
            Assert.That(ds.Satellite.Images, Has.Count.EqualTo(2), "the header is readable");
            ds.NextBatch();
            ds.NextBatch();
            Assert.That(ds.Statistics.SkippedUnreadable, Is.EqualTo(1), "counted once however often it is visited");
            Assert.That(ds.Statistics.Failures.Single(), Does.Contain("late.png"));
        }
        using var strict = PatchDataset.Open(options with { FailOnUnreadable = true });
        var ex = Assert.Catch(() => { for (int i = 0; i < 4; i++) strict.NextBatch(); });
        Assert.That(ex!.Message, Does.Contain("late.png"));
    }
}
